import { isCompensating, operatorLayers } from "../engine/compensation";
import type { RunEvent } from "../engine/events";
import { planReplay, rebaseOnto, replayState } from "../engine/rebase";
import { isTerminalRun, type RunState, runDepth, type StepState } from "../engine/state";
import { type ErrorData, errorData } from "../errors";
import type { RunFlow } from "../flow/types";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import { type LoadedPlan, loadPlan } from "./plans";
import type { RunSetup, RunStorage } from "./run-storage";

/**
 * The run object's operations: pause, unpause, retry (optionally onto another version), and the
 * two halves of a replay (the original hands out a seed, the new run starts from it). Each checks
 * that it applies and answers a coded error when it does not, then feeds an engine event.
 */
export interface OperationsHost {
  state(): RunState | undefined;
  loaded(): LoadedPlan | undefined;
  setup(): RunSetup | undefined;
  storage: RunStorage;
  d1: D1Database;
  dispatch(event: RunEvent): void;
  drive(): void;
  /** Takes on a new plan, setup and state (a retry onto another version, a replay's start). */
  install(loaded: LoadedPlan, setup: RunSetup, state: RunState, context?: JsonObject): void;
  /** A registered version of the workflow from D1 (the latest without `version`). */
  loadVersion(workflowId: string, version?: number): Promise<{ version: number; definition: unknown } | undefined>;
  log(level: string, message: string, fields: Record<string, unknown>): void;
  /** Where this Signalbox answers (src/lib/public-url.ts), for a replay's `run.publicUrl`. */
  publicUrl: string;
  /** Flow control (src/flow/run-gates.ts): a retry of a gated run passes its gates again. */
  gates: { requeue(): boolean; pass(): Promise<void>; create(flow: RunFlow | undefined): void };
}

export type OperationResult<T> = T | { error: ErrorData } | null;

export interface RetryInput {
  by?: string;
  /** Move the run onto this version first: "latest" is retrying with the fix that was just registered. */
  version?: "latest" | number;
}

export interface CompensateInput {
  by?: string;
  reason?: string;
  /** List what would be undone, and do nothing. */
  dryRun?: boolean;
}

export interface CompensateResult {
  status: string;
  /** The steps to undo, group by group, the first group first. */
  layers: string[][];
  dryRun: boolean;
}

export interface RetryResult {
  status: string;
  version: number;
  fromVersion: number;
  restarted: string[];
}

/** What an original hands a replay of itself. */
export interface ReplaySeed {
  workflowId: string;
  version: number;
  definition: unknown;
  fromNode: string;
  taken: string[];
  /** The original's steps that the replay takes, as they ended there. */
  original: RunState;
  /** v0 of the replay, before edits: the original's initial context plus what the taken steps wrote. */
  context: JsonObject;
}

export interface ReplayStart {
  runId: string;
  seed: ReplaySeed;
  /** Top-level keys that replace the seed's (validated by the route). */
  edits?: JsonObject;
  createdAt: number;
  /** The gates the replay asked (src/flow): one that queued it makes it start `queued`. */
  flow?: RunFlow;
}

export class RunOperations {
  private readonly host: OperationsHost;

  constructor(host: OperationsHost) {
    this.host = host;
  }

  pause(input: { reason?: string; by?: string }): OperationResult<{ status: string; pausedAt: number }> {
    const state = this.host.state();
    if (!state) return null;
    if (isTerminalRun(state.status)) return { error: errorData("run.not_active", `run is already ${state.status}`) };
    if (state.paused) return { error: errorData("run.already_paused", "run is already paused") };
    if (isCompensating(state)) {
      return { error: errorData("run.not_active", "run is rolling back its completed steps: it cannot be paused") };
    }
    this.host.dispatch({ type: "pause", ...optional(input) });
    const after = this.host.state() as RunState;
    return { status: after.status, pausedAt: after.paused?.at ?? Date.now() };
  }

  unpause(input: { by?: string }): OperationResult<{ status: string; released: number }> {
    const state = this.host.state();
    if (!state) return null;
    if (isTerminalRun(state.status)) return { error: errorData("run.not_active", `run is already ${state.status}`) };
    if (!state.paused) return { error: errorData("run.not_paused", "run is not paused") };
    const released = state.paused.held.length;
    this.host.dispatch({ type: "unpause", ...(input.by ? { by: input.by } : {}) });
    this.host.drive();
    return { status: (this.host.state() as RunState).status, released };
  }

  /** An operator's rollback of an ended run (src/engine/compensation.ts): its completed steps are undone. */
  compensate(input: CompensateInput): OperationResult<CompensateResult> {
    const state = this.host.state();
    const loaded = this.host.loaded();
    if (!state || !loaded) return null;
    if (!isTerminalRun(state.status)) {
      return { error: errorData("run.not_ended", `run is ${state.status}: cancel it first, then compensate it`) };
    }
    if (state.status === "success") {
      return { error: errorData("run.not_failed", "only a failed or cancelled run can be compensated") };
    }
    const layers = operatorLayers(loaded.plan, state);
    if (layers.length === 0) {
      const why = state.rolledBack ? "it was rolled back already" : "no completed step has a compensate";
      return { error: errorData("run.nothing_to_compensate", `nothing to undo: ${why}`) };
    }
    if (input.dryRun) return { status: state.status, layers, dryRun: true };
    this.host.dispatch({ type: "compensate", ...optional(input) });
    this.host.drive();
    return { status: (this.host.state() as RunState).status, layers, dryRun: false };
  }

  async retry(input: RetryInput): Promise<OperationResult<RetryResult>> {
    const state = this.host.state();
    const loaded = this.host.loaded();
    const setup = this.host.setup();
    if (!state || !loaded || !setup) return null;
    // A rollback held by a compensation that ran out of attempts: those compensations run again.
    if (isCompensating(state) && state.status === "needs_review" && input.version === undefined) {
      this.host.dispatch({ type: "retry", ...(input.by ? { by: input.by } : {}) });
      this.host.drive();
      const after = this.host.state() as RunState;
      const restarted = after.operations?.at(-1)?.nodes ?? [];
      return { status: after.status, version: after.version, fromVersion: state.version, restarted };
    }
    if (state.status === "failed" && (state.compensation?.layers.length ?? 0) > 0) {
      return {
        error: errorData(
          "run.not_failed",
          "this run was rolled back (its completed steps were undone): start a new run",
        ),
      };
    }
    if (state.status !== "failed") {
      return { error: errorData("run.not_failed", `only a failed run can be retried; this one is ${state.status}`) };
    }
    const fromVersion = state.version;
    let dropped: string[] = [];
    const target =
      input.version === undefined
        ? undefined
        : await this.host.loadVersion(state.workflowId, input.version === "latest" ? undefined : input.version);
    if (input.version !== undefined && !target) {
      return {
        error: errorData("workflow.version_not_found", `workflow ${state.workflowId} has no version ${input.version}`),
      };
    }
    // The lookup awaited D1: the run may have moved meanwhile.
    if (this.host.state()?.status !== "failed") {
      return { error: errorData("run.not_failed", "the run is no longer failed") };
    }
    if (target && target.version !== state.version) {
      const next = loadPlan(state.workflowId, target.version, target.definition);
      const rebased = rebaseOnto(next.plan, state);
      if (!rebased.ok) {
        return {
          error: errorData(
            "run.version_incompatible",
            `version ${target.version} cannot take over this run's completed steps`,
            { details: { version: target.version, problems: rebased.problems } },
          ),
        };
      }
      dropped = rebased.dropped;
      const nextSetup = { ...setup, definition: target.definition };
      this.host.storage.replaceSetup(nextSetup, dropped);
      this.host.install(next, nextSetup, rebased.state);
    }
    // A gated run waits at its gates (status queued) and goes on once they let it through.
    const queued = this.host.gates.requeue();
    this.host.dispatch({
      type: "retry",
      fromVersion,
      ...(input.by ? { by: input.by } : {}),
      ...(queued ? { queued } : {}),
    });
    if (queued) await this.host.gates.pass();
    this.host.drive();
    const after = this.host.state() as RunState;
    if (after.version !== fromVersion) await this.moveCheckpoints(after, dropped);
    return {
      status: after.status,
      version: after.version,
      fromVersion,
      restarted: after.operations?.at(-1)?.nodes ?? [],
    };
  }

  /** The D1 row keeps the version it was created with unless told; steps of removed nodes go. */
  private async moveCheckpoints(state: RunState, dropped: readonly string[]): Promise<void> {
    const { d1 } = this.host;
    try {
      await d1.batch([
        d1.prepare("UPDATE runs SET version = ? WHERE id = ?").bind(state.version, state.runId),
        ...dropped.map((nodeId) =>
          d1.prepare("DELETE FROM steps WHERE run_id = ? AND node_id = ?").bind(state.runId, nodeId),
        ),
      ]);
    } catch (thrown) {
      this.host.log("warn", "moving checkpoints to the new version failed", {
        runId: state.runId,
        error: String(thrown),
      });
    }
  }

  /** The original's half of a replay: which steps it gives away, and the context they leave. */
  replaySeed(input: { fromNode: string }): OperationResult<ReplaySeed> {
    const state = this.host.state();
    const loaded = this.host.loaded();
    const setup = this.host.setup();
    if (!state || !loaded || !setup) return null;
    const planned = planReplay(loaded.plan, state, input.fromNode);
    if (!planned.ok) return { error: errorData(planned.code, planned.message, { details: planned.details }) };
    return {
      workflowId: state.workflowId,
      version: state.version,
      definition: setup.definition,
      fromNode: input.fromNode,
      taken: planned.taken,
      original: state,
      context: this.seedContext(state, new Set(planned.taken)),
    };
  }

  /**
   * The context a replay starts from: this run's initial context, plus what each taken step
   * wrote, in the order it was written. A step this run itself took from an earlier original
   * had its output folded into v0; when the new replay does not take it, that output is removed.
   */
  private seedContext(state: RunState, taken: ReadonlySet<string>): JsonObject {
    const patches = this.host.storage.contextPatches();
    const seed: Record<string, Json> = { ...(patches[0]?.patch ?? {}) };
    const steps = Object.values(state.steps);
    for (const step of steps) {
      if (step.replayedFrom && !taken.has(step.nodeId))
        for (const key of Object.keys(step.output ?? {})) delete seed[key];
    }
    const byVersion = new Map<number, StepState>();
    for (const step of steps) if (step.contextVersion !== undefined) byVersion.set(step.contextVersion, step);
    for (const { version, patch } of patches.slice(1)) {
      const step = byVersion.get(version);
      if (step && taken.has(step.nodeId)) Object.assign(seed, patch);
    }
    return seed;
  }

  /** The replay's half: a new run whose taken steps are settled and whose v0 is the seed. */
  startReplay(input: ReplayStart): { runId: string; status: string; created: boolean } {
    const existing = this.host.state();
    if (existing) return { runId: existing.runId, status: existing.status, created: false };
    const { seed } = input;
    const loaded = loadPlan(seed.workflowId, seed.version, seed.definition);
    const state = replayState(loaded.plan, { runId: input.runId, createdAt: input.createdAt }, seed.original, {
      fromNode: seed.fromNode,
      taken: seed.taken,
    });
    const context: JsonObject = {
      ...seed.context,
      ...input.edits,
      run: {
        id: input.runId,
        workflowId: seed.workflowId,
        version: seed.version,
        // A replay has no parent step to report to: it is a top-level run, whatever it replays.
        depth: runDepth(state),
        publicUrl: this.host.publicUrl,
        replayOf: { runId: seed.original.runId, fromNode: seed.fromNode },
      },
    };
    const setup: RunSetup = { definition: seed.definition, triggerType: "replay" };
    this.host.storage.create(setup, state, context);
    // Taken steps are not pending, so unlike a fresh run's they are stored (and checkpointed).
    this.host.storage.persist({ state, changedSteps: seed.taken }, setup.triggerType);
    this.host.install(loaded, setup, state, deepFreeze(context));
    this.host.gates.create(input.flow);
    const queued = input.flow !== undefined && input.flow.admitted < input.flow.gates.length;
    this.host.dispatch({ type: "start-replay", ...(queued ? { queued } : {}) });
    this.host.drive();
    return { runId: input.runId, status: (this.host.state() as RunState).status, created: true };
  }
}

function optional(input: { reason?: string; by?: string }): { reason?: string; by?: string } {
  return { ...(input.reason ? { reason: input.reason } : {}), ...(input.by ? { by: input.by } : {}) };
}
