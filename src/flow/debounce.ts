import type { Env } from "../env";
import type { Json, JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { database } from "../store/db";
import { loadWorkflow } from "../store/triggers";
import { getVersion } from "../store/workflows";
import { runStub } from "../triggers/start-run";
import { type FlowPlan, passGates } from "./admission";

const schema = `
CREATE TABLE IF NOT EXISTS debounced (run_id TEXT PRIMARY KEY, fire_at INTEGER NOT NULL, firing INTEGER NOT NULL DEFAULT 0, entry TEXT NOT NULL);
`;

/** How a debounce gate holds triggers: quiet for `periodMs`, or `maxWaitMs` after the first. */
export interface DebounceConfig {
  periodMs: number;
  maxWaitMs?: number;
}

/** One trigger's start, as the run it leads to would get it (the last trigger's wins). */
export interface DebouncedStart {
  workflowId: string;
  version: number;
  input: Json;
  trigger: JsonObject & { type: string; id: string | null; receivedAt: number };
  /** The trigger's flow plan (keys, priority, gates) from its input: the run passes these gates when it fires. */
  plan: Pick<FlowPlan, "gates" | "priority" | "keyErrors">;
}

export interface DebounceInput {
  /** The run id this trigger would start; the run's id if it opens a new window. */
  runId: string;
  config: DebounceConfig;
  start: DebouncedStart;
}

/** What the trigger is told: the run its window will start, and when (if no trigger comes before). */
export interface DebounceAnswer {
  runId: string;
  startsAt: number;
  /** Triggers gathered in the window so far, this one included. */
  triggers: number;
}

interface Entry {
  firstAt: number;
  triggers: number;
  start: DebouncedStart;
}

/** How long a window whose run could not be started waits before it tries again. */
const retryMs = 5_000;

/**
 * `flow.debounce` in a gate's SQLite: the open window of its key (the run id it will start, the
 * last trigger's start, when it fires) and windows being started. A trigger in an open window
 * replaces its start and pushes its time out; a window's start is taken out of the open slot
 * before the run is asked for, so a trigger that comes meanwhile opens a new window and is never
 * folded into a run that has already read its input.
 */
export class DebounceStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.sql.exec(schema);
  }

  add(input: DebounceInput, now: number): DebounceAnswer {
    const open = this.sql
      .exec<{ run_id: string; entry: string }>("SELECT run_id, entry FROM debounced WHERE firing = 0")
      .toArray()[0];
    const before = open ? (JSON.parse(open.entry) as Entry) : undefined;
    const runId = open?.run_id ?? input.runId;
    const firstAt = before?.firstAt ?? now;
    const quietAt = now + input.config.periodMs;
    const startsAt =
      input.config.maxWaitMs === undefined ? quietAt : Math.min(quietAt, firstAt + input.config.maxWaitMs);
    const entry: Entry = { firstAt, triggers: (before?.triggers ?? 0) + 1, start: input.start };
    this.sql.exec(
      "INSERT OR REPLACE INTO debounced (run_id, fire_at, firing, entry) VALUES (?, ?, 0, ?)",
      runId,
      startsAt,
      JSON.stringify(entry),
    );
    return { runId, startsAt, triggers: entry.triggers };
  }

  /** Windows due at `now` (and ones whose start was cut short), marked as being started. */
  due(now: number): { runId: string; entry: Entry }[] {
    const rows = this.sql
      .exec<{ run_id: string; entry: string }>("SELECT run_id, entry FROM debounced WHERE fire_at <= ?", now)
      .toArray();
    this.sql.exec("UPDATE debounced SET firing = 1 WHERE fire_at <= ?", now);
    return rows.map((row) => ({ runId: row.run_id, entry: JSON.parse(row.entry) as Entry }));
  }

  done(runId: string): void {
    this.sql.exec("DELETE FROM debounced WHERE run_id = ?", runId);
  }

  later(runId: string, at: number): void {
    this.sql.exec("UPDATE debounced SET fire_at = ? WHERE run_id = ?", at, runId);
  }

  nextAt(): number | undefined {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(fire_at) AS at FROM debounced").one().at ?? undefined;
  }

  /** For tests and the API: the run id of the open window, if any. */
  open(): string | undefined {
    return this.sql.exec<{ run_id: string }>("SELECT run_id FROM debounced WHERE firing = 0").toArray()[0]?.run_id;
  }

  /**
   * Starts each due window's run with its last trigger's input: through the gates the last
   * trigger's plan names, then its object. Both are safe to ask twice, so a start cut short is
   * started again at the next alarm; a workflow deleted or disabled meanwhile starts nothing.
   */
  async fire(env: Env, now: number): Promise<void> {
    await Promise.all(
      this.due(now).map(async ({ runId, entry }) => {
        try {
          const started = await startWindow(env, runId, entry);
          if (!started) logLine("info", "debounced run not started: its workflow is gone or disabled", { runId });
          this.done(runId);
        } catch (thrown) {
          logLine("warn", "debounced run could not be started; trying again", { runId, error: String(thrown) });
          this.later(runId, now + retryMs);
        }
      }),
    );
  }
}

async function startWindow(env: Env, runId: string, entry: Entry): Promise<boolean> {
  const { start } = entry;
  const db = database(env.DB);
  const workflow = await loadWorkflow(db, start.workflowId);
  if (!workflow || workflow.deletedAt !== null || workflow.disabledAt !== null) return false;
  const stored = start.version === workflow.version ? workflow : await getVersion(db, start.workflowId, start.version);
  if (!stored) return false;
  const flow = await passGates(env, runId, { ...start.plan });
  // The run's `context.trigger` is its last trigger's, with how many the window gathered.
  const trigger = { ...start.trigger, debounce: { triggers: entry.triggers, firstAt: entry.firstAt } };
  await runStub(env, runId).start({
    runId,
    workflowId: start.workflowId,
    version: start.version,
    definition: stored.definition,
    input: start.input,
    trigger,
    ...(flow ? { flow } : {}),
  });
  return true;
}
