import { DurableObject } from "cloudflare:workers";
import type { Command, RunEvent } from "../engine/events";
import { isTerminalRun, type RunState, type Timer } from "../engine/state";
import { initialRunState, transition } from "../engine/transition";
import type { Env } from "../env";
import { type ErrorData, errorData, toErrorData } from "../errors";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import type { NodePorts } from "../nodes/types";
import { writeCheckpoints } from "../store/checkpoints";
import { database } from "../store/db";
import { executeNode } from "./execute-node";
import { type LoadedPlan, loadPlan } from "./plans";
import { buildReport, type ExecutionReport } from "./report";
import { type RunSetup, RunStorage } from "./run-storage";

export interface StartInput {
  runId: string;
  workflowId: string;
  version: number;
  definition: unknown;
  input: Json;
  trigger: { type: string; id: string | null; receivedAt: number };
}

type WatchTimer = { id: "watch"; at: number; kind: "watch" };
type StoredTimer = Timer | WatchTimer;

/** How long a run may go without the shell checking on it while it has work in flight. */
const watchIntervalMs = 60_000;
const flushBatch = 100;

/**
 * One run's shell: owns its storage, alarm and in-flight work, and feeds every event through
 * the pure engine. Node attempts that are ready run back to back inside one invocation; the
 * durable point of each is this object's SQLite commit, and D1 checkpoints follow behind.
 */
export class RunObject extends DurableObject<Env> {
  private readonly storage: RunStorage;
  private setup: RunSetup | undefined;
  private loaded: LoadedPlan | undefined;
  private state: RunState | undefined;
  private context: JsonObject = {};
  private alarmAt: number | null = null;
  private readonly queue: Extract<Command, { type: "execute" }>[] = [];
  private readonly inflight = new Map<string, Promise<void>>();
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private watchArmed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new RunStorage(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      this.load();
    });
  }

  private load(): void {
    this.setup = this.storage.loadSetup();
    this.state = this.storage.loadState();
    if (!this.setup || !this.state) return;
    this.loaded = loadPlan(this.state.workflowId, this.state.version, this.setup.definition);
    let context: JsonObject = {};
    for (const patch of this.storage.patches()) context = { ...context, ...patch };
    this.context = deepFreeze(context);
    this.watchArmed = this.storage.dueTimers(Number.MAX_SAFE_INTEGER).some((timer) => timer.kind === "watch");
    if (isTerminalRun(this.state.status)) {
      if (this.storage.outboxSize() > 0) this.scheduleFlush();
      return;
    }
    // A fresh instance has nothing in flight: any attempt recorded as running was cut short.
    this.dispatch({ type: "resume" });
    this.fireDueTimers(Date.now());
    this.scheduleFlush();
    this.drive();
  }

  // ---- RPC surface -------------------------------------------------------------------------

  async start(input: StartInput): Promise<{ runId: string; status: string; created: boolean }> {
    if (this.state) return { runId: this.state.runId, status: this.state.status, created: false };
    const now = Date.now();
    const loaded = loadPlan(input.workflowId, input.version, input.definition);
    const state = initialRunState(loaded.plan, { runId: input.runId, createdAt: now });
    const context: JsonObject = {
      input: input.input,
      trigger: input.trigger,
      run: { id: input.runId, workflowId: input.workflowId, version: input.version },
    };
    this.setup = { definition: input.definition, triggerType: input.trigger.type };
    this.loaded = loaded;
    this.state = state;
    this.context = deepFreeze(context);
    this.storage.create(this.setup, state, context);
    this.dispatch({ type: "start" });
    this.drive();
    return { runId: input.runId, status: this.state.status, created: true };
  }

  async report(): Promise<ExecutionReport | null> {
    if (!this.state || !this.loaded) return null;
    return buildReport(this.loaded.plan, this.state, this.context, this.storage.contextVersions());
  }

  async contextAt(version?: number): Promise<{ version: number; context: JsonObject } | { error: ErrorData } | null> {
    if (!this.state) return null;
    const target = version ?? this.state.contextVersion;
    if (target === this.state.contextVersion) return { version: target, context: this.context };
    if (!Number.isInteger(target) || target < 0 || target > this.state.contextVersion) {
      return {
        error: errorData("run.context_version_not_found", `run has versions 0 to ${this.state.contextVersion}`),
      };
    }
    let context: JsonObject = {};
    for (const patch of this.storage.patches(target)) context = { ...context, ...patch };
    return { version: target, context };
  }

  async cancel(reason?: string): Promise<{ status: string } | { error: ErrorData } | null> {
    if (!this.state) return null;
    if (isTerminalRun(this.state.status)) {
      return { error: errorData("run.not_active", `run is already ${this.state.status}`) };
    }
    this.dispatch({ type: "cancel", reason: reason ?? "cancelled by request" });
    return { status: this.state.status };
  }

  /** Watchdog entry: makes sure a run that should be moving is, and its checkpoints are out. */
  async poke(): Promise<{ status: string | null }> {
    // Trust the stored alarm, not the cached one: the poke exists for when they disagree.
    this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.state && !isTerminalRun(this.state.status)) {
      this.fireDueTimers(Date.now());
      this.drive();
    }
    if (this.storage.outboxSize() > 0) this.scheduleFlush();
    return { status: this.state?.status ?? null };
  }

  /** Resolves once no node attempt is in flight and checkpoints are flushed (tests, bench). */
  async idle(): Promise<{ status: string | null }> {
    while (this.inflight.size > 0 || this.flushing) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    return { status: this.state?.status ?? null };
  }

  override async alarm(): Promise<void> {
    // The alarm firing means its time has come, whatever the wall clock says (tests fire it early).
    const firedFor = Math.max(Date.now(), this.alarmAt ?? 0);
    this.alarmAt = null;
    this.fireDueTimers(firedFor);
    this.syncAlarm();
    this.drive();
    await this.idle();
  }

  // ---- the loop ----------------------------------------------------------------------------

  private fireDueTimers(dueBy: number): void {
    for (const timer of this.storage.dueTimers(dueBy) as StoredTimer[]) {
      this.storage.deleteTimer(timer.id);
      if (timer.kind === "watch") {
        this.watchArmed = false;
        if (this.storage.outboxSize() > 0) this.scheduleFlush();
        continue;
      }
      this.dispatch({ type: "timer", timer });
    }
    this.reviewWatch();
    this.syncAlarm();
  }

  private dispatch(event: RunEvent): void {
    if (!this.state || !this.loaded || !this.setup) return;
    const result = transition(this.loaded.plan, this.state, event, Date.now());
    if (!result.changed) return;
    this.state = result.state;
    this.storage.persist(result, this.setup.triggerType);
    let timersChanged = false;
    for (const command of result.commands) {
      switch (command.type) {
        case "execute":
          this.queue.push(command);
          break;
        case "write-context":
          this.context = Object.freeze({ ...this.context, ...deepFreeze(command.patch) });
          break;
        case "set-timer":
        case "clear-timer":
          timersChanged = true;
          break;
        case "run-ended":
          log("info", "run ended", { runId: result.state.runId, status: command.status });
          break;
      }
    }
    this.reviewWatch();
    if (timersChanged) this.syncAlarm();
    this.scheduleFlush();
  }

  /** Starts every queued attempt; each completion feeds the engine and drives again. */
  private drive(): void {
    while (this.queue.length > 0) {
      const command = this.queue.shift();
      if (!command) break;
      const key = `${command.nodeId}#${command.attempt}`;
      if (this.inflight.has(key)) continue;
      const task = this.attempt(command).finally(() => {
        this.inflight.delete(key);
        this.drive();
        this.notifyIdle();
      });
      this.inflight.set(key, task);
      this.ctx.waitUntil(task);
    }
  }

  private async attempt(command: Extract<Command, { type: "execute" }>): Promise<void> {
    const state = this.state;
    const node = this.loaded?.plan.nodes[command.nodeId];
    if (!state || !node || !this.loaded) return;
    const ports: NodePorts = {
      fetch: (request) => fetch(request),
      log: (entry) =>
        log(entry.level, entry.message, {
          runId: state.runId,
          nodeId: node.id,
          attempt: command.attempt,
          data: entry.data,
        }),
    };
    const outcome = await executeNode({
      command,
      node,
      config: this.loaded.configs[node.id],
      runId: state.runId,
      workflowId: state.workflowId,
      context: this.context,
      ports,
      now: Date.now(),
    });
    if (outcome.type === "failure") {
      log("warn", "attempt failed", {
        runId: state.runId,
        nodeId: node.id,
        attempt: command.attempt,
        error: outcome.error,
      });
    }
    this.dispatch({ type: "node-result", nodeId: command.nodeId, attempt: command.attempt, outcome });
  }

  // ---- timers and the alarm ----------------------------------------------------------------

  /**
   * One safety timer while the run has work out or checkpoints unflushed; set once, not per step.
   * A waiting run has nothing in flight and its own timers wake it, so its watch is dropped:
   * otherwise the watch, re-armed each minute, would sit in front of a sleep for its whole length.
   */
  private reviewWatch(): void {
    if (!this.state) return;
    const { status } = this.state;
    const busy = status === "pending" || status === "running" || this.storage.outboxSize() > 0;
    if (busy === this.watchArmed) return;
    if (busy) this.storage.setTimer({ id: "watch", at: Date.now() + watchIntervalMs, kind: "watch" });
    else this.storage.deleteTimer("watch");
    this.watchArmed = busy;
    this.syncAlarm();
  }

  private syncAlarm(): void {
    const next = this.storage.nextTimerAt() ?? null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(next);
  }

  // ---- checkpoints -------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      this.notifyIdle();
    });
    this.ctx.waitUntil(this.flushing);
  }

  private async flush(): Promise<void> {
    const db = database(this.env.DB);
    do {
      this.flushAgain = false;
      // Let the step that asked for this flush commit first: D1 never sits between two steps.
      await Promise.resolve();
      const rows = this.storage.outbox(flushBatch);
      if (rows.length === 0) break;
      try {
        await writeCheckpoints(
          db,
          rows.map((row) => row.entry),
        );
      } catch (thrown) {
        // The watch timer retries; the outbox keeps every row until D1 has it.
        log("warn", "checkpoint flush failed", { runId: this.state?.runId, error: toErrorData(thrown) });
        this.reviewWatch();
        return;
      }
      this.storage.acknowledge(rows);
    } while (this.flushAgain || this.storage.outboxSize() > 0);
    this.reviewWatch();
  }

  private notifyIdle(): void {
    if (this.inflight.size > 0 || this.flushing) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function log(level: string, message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}
