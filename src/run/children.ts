import type { Command, RunEvent } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import { exponentialBackoff } from "../engine/retry";
import { isTerminalRun, type ParentLink, type RunState, runDepth } from "../engine/state";
import type { Env } from "../env";
import { type ErrorData, errorData, toErrorData } from "../errors";
import { childRunId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import { database } from "../store/db";
import { getVersion } from "../store/workflows";
import {
  assembleOutput,
  loopDone,
  loopInput,
  type OutputKeys,
  outputKeys,
  oversizeOutput,
  resolveBody,
} from "./child-steps";
import { type ChildRow, ChildrenStore, cancelJobId, type LinkJob, startJobId } from "./children-store";
import { JobPump } from "./job-pump";
import type { LoadedPlan } from "./plans";
import { runOutput } from "./run-output";
import type { RunSetup, ShellTimer } from "./run-storage";
import type { StartInput } from "./start-input";

/** A call in progress holds its job this long; a crash mid-call is retried when it lapses. */
const leaseMs = 60_000;
/** Starting a child is given up after this many failed calls (the step hears `child.start_failed`). */
const maxStartAttempts = 5;
export const linksTimerId = "links";

function backoffMs(attempts: number): number {
  return exponentialBackoff(attempts, { initialMs: 5_000, factor: 3, maxMs: 5 * 60_000 });
}

/** A child's end, as it reports it to its parent. */
export interface ChildReport {
  childRunId: string;
  nodeId: string;
  attempt: number;
  index: number;
  status: "success" | "failed" | "cancelled";
  output?: Json;
  error?: ErrorData;
}

/** The run object's RPC methods that other runs call. */
export interface LinkApi {
  start(input: StartInput): Promise<{ runId: string; status: string; created: boolean }>;
  cancel(reason?: string): Promise<unknown>;
  childEnded(report: ChildReport): Promise<{ ok: boolean } | null>;
}

const linkMethods: MethodNames<LinkApi> = { start: true, cancel: true, childEnded: true };

function linkStub(env: Env, runId: string): LinkApi {
  return rpcStub(env.RUNS.get(env.RUNS.idFromName(runId)), linkMethods);
}

export interface ChildrenHost {
  env: Env;
  sql: SqlStorage;
  state(): RunState | undefined;
  loaded(): LoadedPlan | undefined;
  setup(): RunSetup | undefined;
  /** The context with large values resolved where already fetched (expressions evaluated at once). */
  liveContext(): JsonObject;
  /** The context with every large value resolved. */
  resolvedContext(): Promise<JsonObject>;
  /** Whether the run seals sensitive values; then what it hands children and parents is sealed whole. */
  sensitive(): boolean;
  sealValue(value: Json): Promise<Json>;
  /** The step output as stored: large values offloaded, or the error that stops it (too large). */
  storedOutput(nodeId: string, output: JsonObject): Promise<{ output: JsonObject } | { error: ErrorData }>;
  dispatch(event: RunEvent): void;
  drive(): void;
  track(key: string, task: Promise<void>): void;
  setTimer(timer: ShellTimer): void;
  deleteTimer(id: string): void;
  log(level: string, message: string, fields: Record<string, unknown>): void;
}

type ChildCommand = Extract<Command, { type: "start-child" | "cancel-children" | "collect-children" }>;

/**
 * The run object's side of child runs, as parent and as child. As a parent it resolves what a
 * map, loop or subworkflow step's children run, keeps their inputs and results in the
 * `children` table, starts and cancels them, and assembles the step's output. As a child it
 * tells its parent how it ended. Every call to another run is a job written in the commit of
 * the transition that asked for it and retried on the alarm until it went through, so a crash
 * anywhere in between delays a call but never loses it.
 */
export class Children {
  private readonly host: ChildrenHost;
  private readonly store: ChildrenStore;
  private readonly pump: JobPump<LinkJob>;

  constructor(host: ChildrenHost) {
    this.host = host;
    this.store = new ChildrenStore(host.sql);
    this.pump = new JobPump<LinkJob>({
      due: (dueBy) => this.store.dueJobs(dueBy, 100),
      send: async (jobs) => {
        for (const job of jobs) this.store.putJob(job, Date.now() + leaseMs);
        await Promise.all(jobs.map((job) => this.send(job)));
      },
      idle: () => {
        const next = this.store.nextJobAt();
        if (next === undefined) this.host.deleteTimer(linksTimerId);
        else this.host.setTimer({ id: linksTimerId, at: next, kind: "links" });
      },
    });
  }

  // ---- a step starts its children -----------------------------------------------------------

  /**
   * Resolves what the children run (the body's definition, at the version they will all share)
   * and checks the nesting depth. `commit` writes the inputs; call it right before dispatching
   * the outcome, so both land in one commit.
   */
  async prepare(
    command: Extract<Command, { type: "execute" }>,
    outcome: Extract<NodeOutcome, { type: "spawn" }>,
  ): Promise<{ outcome: NodeOutcome; commit?: () => void }> {
    const resolved = await resolveBody(
      this.host.state(),
      this.host.loaded(),
      command.nodeId,
      async (workflow, version) => {
        const stored = await getVersion(database(this.host.env.DB), workflow, version);
        return stored && { workflowId: stored.workflowId, version: stored.version, definition: stored.definition };
      },
    );
    if (!resolved.ok) return { outcome: resolved.outcome };
    const { inputs: plain, ...rest } = outcome;
    // A run that holds sensitive values keeps its children's inputs sealed (its children seal all they hold).
    const inputs =
      plain && this.host.sensitive() ? await Promise.all(plain.map((input) => this.host.sealValue(input))) : plain;
    return {
      outcome: rest,
      commit: () => this.store.addPending(command.nodeId, command.attempt, inputs ?? [], resolved.body),
    };
  }

  // ---- engine commands (synchronous: part of the transition's commit) -------------------------

  /** Returns true when link jobs were written and want a kick. */
  command(command: ChildCommand, now: number): boolean {
    const state = this.host.state();
    if (!state) return false;
    switch (command.type) {
      case "start-child": {
        const id = childRunId(state.runId, command.nodeId, command.attempt, command.index);
        this.store.markRunning(command.nodeId, command.attempt, command.index, id);
        this.putJob({ id: startJobId(command), kind: "start", ...pick(command), attempts: 0 }, now);
        return true;
      }
      case "cancel-children": {
        let any = false;
        for (const index of command.indices) {
          const row = this.store.child(command.nodeId, command.attempt, index);
          if (!row?.childRunId || row.status !== "running") continue;
          this.store.settle(row, "cancelled");
          // A start not yet through turns itself into the cancel (sendStart).
          if (this.store.hasJob(startJobId({ ...command, index }))) continue;
          this.putJob(
            { id: cancelJobId(row.childRunId), kind: "cancel", childRunId: row.childRunId, attempts: 0 },
            now,
          );
          any = true;
        }
        return any;
      }
      case "collect-children":
        // Answered right after this transition commits; a restart before that collects again (recover).
        this.host.track(
          `collect:${command.nodeId}:${command.attempt}`,
          Promise.resolve().then(() => this.collect(command.nodeId, command.attempt)),
        );
        return false;
    }
  }

  /** This run ended: if it is a child, its parent must hear of it. */
  runEnded(state: RunState, now: number): boolean {
    if (!state.parent) return false;
    this.putJob({ id: "notify", kind: "notify", attempts: 0 }, now);
    return true;
  }

  /** Every child run this run started (deleting a run takes its children with it). */
  startedRunIds(): string[] {
    return this.store.startedRunIds();
  }

  /** `start` called again on an ended child (its parent restarted): the report goes out again. */
  resendEnd(): void {
    const state = this.host.state();
    if (!state?.parent || !isTerminalRun(state.status) || this.store.hasJob("notify")) return;
    this.putJob({ id: "notify", kind: "notify", attempts: 0 }, Date.now());
    this.host.track("links", this.kick());
  }

  /**
   * After a restart: children recorded as running are started again (a child that already
   * ended reports again), reports recorded but not yet taken by the engine are taken, and
   * steps whose children all settled are collected.
   */
  recover(): void {
    const state = this.host.state();
    if (!state) return;
    const now = Date.now();
    if (!isTerminalRun(state.status)) {
      for (const step of Object.values(state.steps)) {
        const children = step.children;
        if (step.status !== "waiting" || !children) continue;
        if (children.phase === "collecting") this.command({ type: "collect-children", ...at(step) }, now);
        if (children.phase !== "running") continue;
        for (const index of children.running) {
          const row = this.store.child(step.nodeId, step.attempts, index);
          if (row && row.status !== "running" && row.status !== "pending") {
            this.host.dispatch(endedEvent(row));
            continue;
          }
          if (!this.store.hasJob(startJobId({ ...at(step), index }))) {
            this.command({ type: "start-child", ...at(step), index }, now);
          }
        }
      }
    }
    this.host.track("links", this.kick());
  }

  // ---- a child reports to this run ----------------------------------------------------------

  async childEnded(report: ChildReport): Promise<{ ok: boolean }> {
    const row = this.store.child(report.nodeId, report.attempt, report.index);
    // Reports of children this run no longer waits for, or has heard of already, change nothing.
    if (!row || row.childRunId !== report.childRunId || row.status !== "running") return { ok: true };
    let { status, error } = report;
    let output = report.output;
    // A result is one row of this run's SQLite (2 MB at most) and part of the step's output:
    // a child returns large data by reference (its workflow `output` picking what is needed).
    const oversize = status === "success" ? oversizeOutput(report.childRunId, output) : undefined;
    if (oversize) {
      status = "failed";
      output = undefined;
      error = oversize;
    }
    let done: boolean | undefined;
    const step = this.host.state()?.steps[report.nodeId];
    if (status === "success" && step?.children?.mode === "loop") {
      try {
        done = await loopDone(this.keys(report.nodeId), this.host.liveContext(), report.index, output ?? null);
      } catch (thrown) {
        status = "failed";
        error = toErrorData(thrown, "node.expression_failed");
      }
    }
    // The loop's condition was awaited: a duplicate report may have been taken meanwhile.
    if (this.store.child(report.nodeId, report.attempt, report.index)?.status !== "running") return { ok: true };
    const settled = { ...row, status, output, error, done: done ?? false };
    this.store.settle(row, status, {
      ...(report.output !== undefined ? { output: report.output } : {}),
      ...(error ? { error } : {}),
      done: done ?? false,
    });
    this.host.dispatch(endedEvent(settled, done));
    this.host.drive();
    return { ok: true };
  }

  // ---- the step's output --------------------------------------------------------------------

  private collect(nodeId: string, attempt: number): void {
    const state = this.host.state();
    const step = state?.steps[nodeId];
    const children = step?.children;
    if (!step || !children || step.attempts !== attempt || children.phase !== "collecting") return;
    const keys = this.keys(nodeId);
    const rows = this.store.children(nodeId, attempt);
    const output = assembleOutput(children.mode, keys, rows);
    const stored = this.host.storedOutput(nodeId, output).then((result) => {
      this.host.dispatch({ type: "children-collected", nodeId, attempt, ...result });
      this.host.drive();
    });
    this.host.track(`collect:${nodeId}:${attempt}`, stored);
  }

  private keys(nodeId: string): OutputKeys {
    return outputKeys(this.host.loaded(), nodeId);
  }

  private async loopInput(nodeId: string, attempt: number, index: number): Promise<Json> {
    const last = index === 0 ? null : (this.store.child(nodeId, attempt, index - 1)?.output ?? null);
    return loopInput(this.keys(nodeId), this.host.liveContext(), index, last);
  }

  // ---- link jobs ----------------------------------------------------------------------------

  private putJob(job: LinkJob, now: number): void {
    this.store.putJob(job, now);
    this.host.setTimer({ id: linksTimerId, at: now + leaseMs, kind: "links" });
  }

  /** Sends every job due by `dueBy`; concurrent calls join the running pass. */
  kick(dueBy: number = Date.now()): Promise<void> {
    return this.pump.kick(dueBy);
  }

  private async send(job: LinkJob): Promise<void> {
    try {
      if (job.kind === "start") await this.sendStart(job);
      else if (job.kind === "cancel") await this.sendCancel(job);
      else await this.sendNotify();
    } catch (thrown) {
      const attempts = job.attempts + 1;
      const error = toErrorData(thrown, "child.start_failed");
      this.host.log("warn", "call to another run failed", { runId: this.host.state()?.runId, job, error });
      if (job.kind === "start" && attempts >= maxStartAttempts) {
        this.store.dropJob(job.id);
        this.giveUpStart(job, error);
        return;
      }
      this.store.putJob({ ...job, attempts }, Date.now() + backoffMs(attempts));
    }
  }

  private async sendStart(job: Extract<LinkJob, { kind: "start" }>): Promise<void> {
    const state = this.host.state();
    const row = this.store.child(job.nodeId, job.attempt, job.index);
    const body = this.store.body(job.nodeId, job.attempt);
    if (!state || !row?.childRunId || !body || row.status !== "running") {
      this.store.dropJob(job.id);
      // Cancelled before its start went through: the child may exist (a start cut short), so cancel it.
      if (row?.childRunId && row.status === "cancelled") this.cancelLater(row.childRunId);
      return;
    }
    let input = row.input;
    if (input === undefined) {
      try {
        input = await this.host.sealValue(await this.loopInput(job.nodeId, job.attempt, job.index));
      } catch (thrown) {
        this.store.dropJob(job.id);
        this.giveUpStart(job, toErrorData(thrown, "node.expression_failed"));
        return;
      }
      this.store.setInput(job.nodeId, job.attempt, job.index, input);
    }
    const parent: ParentLink = {
      runId: state.runId,
      nodeId: job.nodeId,
      attempt: job.attempt,
      index: job.index,
      depth: runDepth(state) + 1,
    };
    await linkStub(this.host.env, row.childRunId).start({
      runId: row.childRunId,
      workflowId: body.workflowId,
      version: body.version,
      definition: body.definition,
      input,
      trigger: { type: "parent", id: state.runId, receivedAt: Date.now() },
      parent,
      ...(this.host.sensitive() ? { inheritSensitive: true as const } : {}),
    });
    this.store.dropJob(job.id);
    if (this.store.child(job.nodeId, job.attempt, job.index)?.status === "cancelled") {
      this.cancelLater(row.childRunId);
    }
  }

  private cancelLater(childRunId: string): void {
    // Due at once: the pass that is sending finds it on its next round.
    this.store.putJob({ id: cancelJobId(childRunId), kind: "cancel", childRunId, attempts: 0 }, Date.now());
  }

  private giveUpStart(job: Extract<LinkJob, { kind: "start" }>, error: ErrorData): void {
    const row = this.store.child(job.nodeId, job.attempt, job.index);
    if (row?.status !== "running") return;
    const failed = { ...row, status: "failed" as const, error };
    this.store.settle(row, "failed", { error });
    this.host.dispatch(endedEvent(failed));
    this.host.drive();
  }

  private async sendCancel(job: Extract<LinkJob, { kind: "cancel" }>): Promise<void> {
    await linkStub(this.host.env, job.childRunId).cancel("its parent step stopped waiting for it");
    this.store.dropJob(job.id);
  }

  private async sendNotify(): Promise<void> {
    const state = this.host.state();
    const parent = state?.parent;
    if (!state || !parent || !isTerminalRun(state.status)) {
      this.store.dropJob("notify");
      return;
    }
    let status = state.status as ChildReport["status"];
    let error: ErrorData | undefined = state.error;
    let output: Json | undefined;
    if (status === "success") {
      try {
        // Computed on the real values; sealed whole when this run holds sensitive ones.
        output = await this.host.sealValue(
          await runOutput(this.host.setup()?.definition, await this.host.resolvedContext()),
        );
      } catch (thrown) {
        status = "failed";
        error = toErrorData(thrown, "node.expression_failed");
      }
    }
    await linkStub(this.host.env, parent.runId).childEnded({
      childRunId: state.runId,
      nodeId: parent.nodeId,
      attempt: parent.attempt,
      index: parent.index,
      status,
      ...(output !== undefined ? { output } : {}),
      ...(error ? { error } : {}),
    });
    this.store.dropJob("notify");
  }
}

function _failure(code: ErrorData["code"], message: string, details?: unknown): NodeOutcome {
  return { type: "failure", error: errorData(code, message, details === undefined ? {} : { details }) };
}

function pick(command: { nodeId: string; attempt: number; index: number }) {
  return { nodeId: command.nodeId, attempt: command.attempt, index: command.index };
}

function at(step: { nodeId: string; attempts: number }) {
  return { nodeId: step.nodeId, attempt: step.attempts };
}

function endedEvent(row: ChildRow, done?: boolean): RunEvent {
  return {
    type: "child-ended",
    nodeId: row.nodeId,
    attempt: row.attempt,
    index: row.index,
    status: row.status === "success" ? "success" : row.status === "cancelled" ? "cancelled" : "failed",
    ...(row.error ? { error: row.error } : {}),
    ...((done ?? row.done) ? { done: true } : row.status === "success" ? { done: false } : {}),
  };
}
