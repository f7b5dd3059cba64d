import { DurableObject } from "cloudflare:workers";
import { exponentialBackoff } from "../engine/retry";
import type { Env } from "../env";
import { type ErrorCode, type ErrorData, toErrorData } from "../errors";
import { nextTick, parseCron } from "../lib/cron";
import { derivedId } from "../lib/ids";
import { logLine } from "../lib/log";
import { database } from "../store/db";
import { loadWorkflow, recordScheduleState, scheduleTriggerOf, type WorkflowForRun } from "../store/triggers";
import { type MissedPolicy, planTicks } from "./schedule-plan";
import type { ScheduleApi } from "./schedules";
import { startRun } from "./start-run";

/** What a schedule runs: a workflow version's schedule trigger. */
export interface ScheduleConfig {
  workflowId: string;
  version: number;
  cron: string;
  timezone: string | null;
  missed: MissedPolicy;
  catchUpLimit: number;
}

export interface FiredTick {
  tick: number;
  runId: string;
  status: string;
  error: ErrorData | null;
  firedAt: number;
}

export interface ScheduleState extends ScheduleConfig {
  /** The earliest tick not yet handled. */
  nextAt: number | null;
  lastTickAt: number | null;
  /** A tick whose run could not be started (D1 unreachable), retried before anything else. */
  pending: { tick: number; attempts: number; retryAt: number } | null;
  alarmAt: number | null;
  recent: FiredTick[];
}

const schema = `
CREATE TABLE IF NOT EXISTS schedule (
  id INTEGER PRIMARY KEY CHECK (id = 1), config TEXT NOT NULL, next_at INTEGER, last_tick_at INTEGER,
  pending_tick INTEGER, pending_attempts INTEGER NOT NULL DEFAULT 0, retry_at INTEGER, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fired (
  tick INTEGER PRIMARY KEY, run_id TEXT NOT NULL, status TEXT NOT NULL, error TEXT, fired_at INTEGER NOT NULL);
`;

interface Row {
  config: ScheduleConfig;
  nextAt: number | null;
  lastTickAt: number | null;
  pendingTick: number | null;
  pendingAttempts: number;
  retryAt: number | null;
}

const keptTicks = 20;
const maxAttempts = 8;
/** Errors that mean this tick can never start a run: it is recorded and the schedule moves on. */
const tickErrors: ReadonlySet<ErrorCode> = new Set(["run.input_invalid", "run.input_mapping_failed"]);
/** Errors that mean the schedule itself is gone: the object stops. */
const stopErrors: ReadonlySet<ErrorCode> = new Set(["workflow.not_found", "workflow.disabled", "trigger.not_found"]);

type FireOutcome = "ok" | "retry" | "stop";

/**
 * One workflow's schedule (the object is named by the workflow id). It keeps the next tick and
 * the policy in its SQLite and fires from its alarm; the Worker's cron trigger is only a
 * watchdog that calls `ensure`. Each tick's run id is derived from the workflow and the tick
 * time, and claimed in D1 under the tick, so the alarm and the watchdog firing the same tick
 * (or a tick fired again after a crash) start one run.
 */
export class ScheduleObject extends DurableObject<Env> implements ScheduleApi {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(schema);
  }

  // ---- RPC surface -------------------------------------------------------------------------

  /** Adopts a version's schedule; an unchanged cron and zone keep their next tick. */
  configure(config: ScheduleConfig, now: number): Promise<ScheduleState> {
    return this.serial(async () => {
      this.adopt(config, now);
      await this.armAndReport();
      return this.describe();
    });
  }

  stop(): Promise<void> {
    return this.serial(() => this.halt());
  }

  state(): Promise<ScheduleState | null> {
    return this.serial(async () => (this.load() ? await this.describe() : null));
  }

  /**
   * The watchdog's call: adopt `config` if the object runs an older version (or none), fire
   * what is overdue (its alarm went missing), and make sure the alarm is set.
   */
  ensure(config: ScheduleConfig, now: number): Promise<ScheduleState | null> {
    return this.serial(async () => {
      const row = this.load();
      if (!row || row.config.version !== config.version) this.adopt(config, now);
      const due = this.dueAt();
      if (due !== null && due <= now) await this.tick(now);
      else await this.armAndReport();
      return this.load() ? await this.describe() : null;
    });
  }

  /** Fires whatever is due at `now` (an injected clock in tests; the alarm passes its own time). */
  fireDue(now: number): Promise<ScheduleState | null> {
    return this.serial(async () => {
      await this.tick(now);
      return this.load() ? await this.describe() : null;
    });
  }

  override async alarm(): Promise<void> {
    // The alarm firing means its time has come, whatever the wall clock says (tests fire it early).
    await this.serial(async () => {
      const due = this.dueAt();
      if (due === null) return;
      await this.tick(Math.max(Date.now(), due));
    });
  }

  // ---- ticks -------------------------------------------------------------------------------

  private async tick(now: number): Promise<void> {
    const row = this.load();
    if (!row) return;
    let workflow: WorkflowForRun | undefined;
    try {
      workflow = await loadWorkflow(database(this.env.DB), row.config.workflowId);
    } catch (thrown) {
      logLine("warn", "schedule could not read its workflow", {
        workflowId: row.config.workflowId,
        error: toErrorData(thrown),
      });
      this.retryLater(row, now);
      await this.armAndReport();
      return;
    }
    const trigger = workflow && workflow.deletedAt === null ? scheduleTriggerOf(workflow.definition) : undefined;
    if (!workflow || !trigger || workflow.deletedAt !== null || workflow.disabledAt !== null) {
      logLine("info", "schedule stopped: its workflow is gone, disabled or has no schedule", {
        workflowId: row.config.workflowId,
      });
      await this.halt();
      return;
    }
    // A newer version this object was not told about (a lost configure call): adopt it first.
    if (workflow.version !== row.config.version) {
      this.adopt(
        {
          workflowId: workflow.workflowId,
          version: workflow.version,
          cron: trigger.cron,
          timezone: trigger.timezone ?? null,
          missed: trigger.missed ?? "skip",
          catchUpLimit: trigger.catchUpLimit ?? 10,
        },
        now,
      );
    }
    await this.fireTicks(workflow, now);
    await this.armAndReport();
  }

  private async fireTicks(workflow: WorkflowForRun, now: number): Promise<void> {
    let row = this.load();
    if (!row) return;
    if (row.pendingTick === null && row.retryAt !== null) {
      // A round that waited for D1: it can go ahead now.
      this.sql("UPDATE schedule SET retry_at = NULL WHERE id = 1");
      row = this.load() as Row;
    }
    if (row.pendingTick !== null && (row.retryAt ?? 0) <= now) {
      const outcome = await this.fire(row.config, workflow, row.pendingTick, now);
      if (outcome === "stop") return this.halt();
      if (outcome === "retry") return this.retryLater(row, now);
      this.sql("UPDATE schedule SET pending_tick = NULL, pending_attempts = 0, retry_at = NULL WHERE id = 1");
      row = this.load() as Row;
    }
    const parsed = parseCron(row.config.cron);
    if (!parsed.ok || row.nextAt === null || row.pendingTick !== null) return;
    const zone = row.config.timezone ?? undefined;
    const plan = planTicks(parsed.cron, zone, row.config, row.nextAt, now);
    if (plan.skipped > 0) {
      logLine("warn", "schedule skipped missed ticks", {
        workflowId: row.config.workflowId,
        skipped: plan.skipped,
        missed: row.config.missed,
        since: row.nextAt,
      });
    }
    for (const tick of plan.fire) {
      const outcome = await this.fire(row.config, workflow, tick, now);
      if (outcome === "stop") return this.halt();
      if (outcome === "retry") {
        // Later due ticks stay due; the failed one is retried first, whatever the policy.
        this.sql(
          "UPDATE schedule SET pending_tick = ?, pending_attempts = 1, retry_at = ?, next_at = ?, updated_at = ? WHERE id = 1",
          tick,
          now + retryDelay(1),
          nextTick(parsed.cron, zone, tick) ?? null,
          now,
        );
        return;
      }
      this.sql("UPDATE schedule SET last_tick_at = ?, next_at = ?, updated_at = ? WHERE id = 1", tick, tick + 1, now);
    }
    this.sql("UPDATE schedule SET next_at = ?, updated_at = ? WHERE id = 1", plan.nextAt ?? null, now);
  }

  /** Starts the tick's run; the run id is derived from the workflow and the tick time. */
  private async fire(
    config: ScheduleConfig,
    workflow: WorkflowForRun,
    tick: number,
    now: number,
  ): Promise<FireOutcome> {
    const runId = await derivedId("run", tick, `schedule:${config.workflowId}:${tick}`);
    const scheduled = { scheduledTime: new Date(tick).toISOString(), cron: config.cron, timezone: config.timezone };
    try {
      const result = await startRun(this.env, {
        workflowId: config.workflowId,
        triggerType: "schedule",
        workflow,
        input: scheduled,
        envelope: { body: scheduled },
        idempotencyKey: String(tick),
        runId,
        details: { scheduledAt: tick, lateMs: Math.max(0, now - tick) },
        receivedAt: now,
      });
      this.record({ tick, runId, status: result.status, error: null, firedAt: now });
      logLine("info", "schedule tick fired", { workflowId: config.workflowId, tick, runId, status: result.status });
      return "ok";
    } catch (thrown) {
      const error = toErrorData(thrown);
      if (stopErrors.has(error.code)) return "stop";
      this.record({ tick, runId, status: tickErrors.has(error.code) ? "rejected" : "failed", error, firedAt: now });
      logLine("warn", "schedule tick could not start a run", { workflowId: config.workflowId, tick, error });
      return tickErrors.has(error.code) ? "ok" : "retry";
    }
  }

  private retryLater(row: Row, now: number): void {
    if (row.pendingTick === null) {
      // Nothing was fired yet: the whole round waits.
      this.sql("UPDATE schedule SET retry_at = ?, updated_at = ? WHERE id = 1", now + retryDelay(1), now);
      return;
    }
    const attempts = row.pendingAttempts + 1;
    if (attempts > maxAttempts) {
      logLine("error", "schedule gave up on a tick", { workflowId: row.config.workflowId, tick: row.pendingTick });
      this.sql("UPDATE schedule SET pending_tick = NULL, pending_attempts = 0, retry_at = NULL WHERE id = 1");
      return;
    }
    this.sql(
      "UPDATE schedule SET pending_attempts = ?, retry_at = ?, updated_at = ? WHERE id = 1",
      attempts,
      now + retryDelay(attempts),
      now,
    );
  }

  // ---- storage -----------------------------------------------------------------------------

  private adopt(config: ScheduleConfig, now: number): void {
    const row = this.load();
    const parsed = parseCron(config.cron);
    const sameTimes = row && row.config.cron === config.cron && row.config.timezone === config.timezone;
    const nextAt =
      sameTimes && row.nextAt !== null
        ? row.nextAt
        : parsed.ok
          ? (nextTick(parsed.cron, config.timezone ?? undefined, now) ?? null)
          : null;
    this.sql(
      `INSERT INTO schedule (id, config, next_at, updated_at) VALUES (1, ?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET config = ?1, next_at = ?2, updated_at = ?3`,
      JSON.stringify(config),
      nextAt,
      now,
    );
  }

  private load(): Row | undefined {
    const row = this.ctx.storage.sql
      .exec<{
        config: string;
        next_at: number | null;
        last_tick_at: number | null;
        pending_tick: number | null;
        pending_attempts: number;
        retry_at: number | null;
      }>("SELECT * FROM schedule WHERE id = 1")
      .toArray()[0];
    if (!row) return undefined;
    return {
      config: JSON.parse(row.config) as ScheduleConfig,
      nextAt: row.next_at,
      lastTickAt: row.last_tick_at,
      pendingTick: row.pending_tick,
      pendingAttempts: row.pending_attempts,
      retryAt: row.retry_at,
    };
  }

  /** When the object next has work: a retry blocks everything behind it, else the next tick. */
  private dueAt(): number | null {
    const row = this.load();
    if (!row) return null;
    return row.retryAt ?? row.nextAt;
  }

  private record(fired: FiredTick): void {
    this.sql(
      "INSERT OR REPLACE INTO fired (tick, run_id, status, error, fired_at) VALUES (?, ?, ?, ?, ?)",
      fired.tick,
      fired.runId,
      fired.status,
      fired.error ? JSON.stringify(fired.error) : null,
      fired.firedAt,
    );
    this.sql(`DELETE FROM fired WHERE tick NOT IN (SELECT tick FROM fired ORDER BY tick DESC LIMIT ${keptTicks})`);
  }

  private async describe(): Promise<ScheduleState> {
    const row = this.load() as Row;
    const recent = this.ctx.storage.sql
      .exec<{ tick: number; run_id: string; status: string; error: string | null; fired_at: number }>(
        "SELECT * FROM fired ORDER BY tick DESC",
      )
      .toArray()
      .map((entry) => ({
        tick: entry.tick,
        runId: entry.run_id,
        status: entry.status,
        error: entry.error ? (JSON.parse(entry.error) as ErrorData) : null,
        firedAt: entry.fired_at,
      }));
    return {
      ...row.config,
      nextAt: row.nextAt,
      lastTickAt: row.lastTickAt,
      pending:
        row.pendingTick === null
          ? null
          : { tick: row.pendingTick, attempts: row.pendingAttempts, retryAt: row.retryAt ?? 0 },
      alarmAt: await this.ctx.storage.getAlarm(),
      recent,
    };
  }

  /** Sets the alarm to when work is next due, and tells D1 what is armed (for the watchdog). */
  private async armAndReport(): Promise<void> {
    const due = this.dueAt();
    const current = await this.ctx.storage.getAlarm();
    if (due === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== due) {
      await this.ctx.storage.setAlarm(due);
    }
    const row = this.load();
    if (!row) return;
    try {
      await recordScheduleState(database(this.env.DB), {
        workflowId: row.config.workflowId,
        version: row.config.version,
        nextAt: row.nextAt,
        lastTickAt: row.lastTickAt,
      });
    } catch (thrown) {
      // Only the watchdog reads this mirror; it pokes the object again when the mirror lags.
      logLine("warn", "schedule state not mirrored to D1", {
        workflowId: row.config.workflowId,
        error: toErrorData(thrown),
      });
    }
  }

  private async halt(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    this.sql("DELETE FROM schedule");
    this.sql("DELETE FROM fired");
  }

  private sql(query: string, ...bindings: (string | number | null)[]): void {
    this.ctx.storage.sql.exec(query, ...bindings);
  }

  /** One operation at a time: a tick awaits D1 and the run object, and must not interleave. */
  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.chain.then(operation, operation);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** 10 s, 20 s, 40 s ... at most 5 minutes. */
function retryDelay(attempt: number): number {
  return exponentialBackoff(attempt, { initialMs: 10_000, maxMs: 5 * 60_000 });
}
