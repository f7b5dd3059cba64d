import { type ErrorData, errorData } from "../errors";
import type { Draft } from "./draft";
import type { NodeResult } from "./events";
import type { Plan } from "./plan";
import { backoffDelay, shouldRetry } from "./retry";
import {
  compensationKey,
  type RunCompensation,
  type RunState,
  type RunStatus,
  type StepCompensation,
  type StepState,
  timerId,
} from "./state";

/**
 * Compensation: a run that fails or is cancelled under `onFailure` / `onCancel: "compensate"`
 * does not end at once. It undoes its completed steps first, each through its node's
 * `compensate`, as attempts of their own with retries on the run's alarm, and ends when they are
 * done: `cancelled` with `rolledBack`, or `failed` with each step's compensation in its report.
 *
 * Order: the steps are undone in reverse topological layers of the completed steps that have a
 * `compensate`. A step's layer is the longest chain of such steps before it in the graph; the
 * deepest layer goes first, and the steps of one layer (none of them depends on another: they
 * ran in parallel, or on independent paths) are undone together. So a chain a -> b -> c is
 * undone c, b, a, and a fan-out's parallel branches are undone together, after what followed them.
 * A layer starts once every compensation of the one before succeeded. Steps that never ran, were
 * skipped, failed, were cut off or taken from another run (a replay) are left alone.
 *
 * A compensation whose attempts run out puts the run in `needs_review`: nothing further is undone
 * until an operator retries it (`retry`) or cancels, which ends the run with `rolledBack: false`.
 */

/** The steps a run would undo now, in the groups they are undone in, first group first. */
export function compensationLayers(plan: Plan, steps: Readonly<Record<string, StepState>>): string[][] {
  const member = (nodeId: string) => {
    const step = steps[nodeId];
    return plan.nodes[nodeId]?.compensate !== undefined && step !== undefined && isCompleted(step);
  };
  const level = new Map<string, number>();
  const groups = new Map<number, string[]>();
  for (const nodeId of plan.order) {
    let depth = 0;
    for (const pred of plan.nodes[nodeId]?.preds ?? []) {
      depth = Math.max(depth, (level.get(pred) ?? 0) + (member(pred) ? 1 : 0));
    }
    level.set(nodeId, depth);
    if (member(nodeId)) groups.set(depth, [...(groups.get(depth) ?? []), nodeId]);
  }
  return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, group]) => group);
}

/**
 * What an operator's compensation of an ended run would undo: the completed steps with a
 * `compensate` whose undo has not succeeded yet, in the same layers.
 */
export function operatorLayers(plan: Plan, state: RunState): string[][] {
  return compensationLayers(plan, state.steps)
    .map((group) => group.filter((nodeId) => state.steps[nodeId]?.compensation?.status !== "success"))
    .filter((group) => group.length > 0);
}

/** Whether an operator may ask this run to roll back: it ended failed or cancelled, and something is left to undo. */
export function canCompensate(plan: Plan, state: RunState): boolean {
  return (state.status === "failed" || state.status === "cancelled") && operatorLayers(plan, state).length > 0;
}

/**
 * An operator's compensation of an ended run (`compensate` event): the run is active again
 * while it undoes what `operatorLayers` lists, then ends as it was, with `rolledBack`. Each
 * undo's attempts keep counting (a failed one's next attempt has the next number, same key).
 */
export function compensateEndedRun(draft: Draft, event: { by?: string; reason?: string }): void {
  const { state } = draft;
  if (!canCompensate(draft.plan, state)) return;
  const cause = state.status === "failed" ? "failed" : "cancelled";
  const layers = operatorLayers(draft.plan, state);
  for (const nodeId of layers.flat()) {
    const previous = draft.step(nodeId).compensation;
    draft.updateStep(nodeId, {
      compensation: {
        status: "pending",
        attempts: previous?.attempts ?? 0,
        interruptions: 0,
        ...(previous ? { attemptBase: previous.attempts } : {}),
      },
    });
  }
  const record = {
    type: "compensate" as const,
    at: draft.now,
    nodes: layers.flat(),
    ...(event.by ? { by: event.by } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
  };
  draft.updateRun({
    status: "running",
    endedAt: undefined,
    rolledBack: undefined,
    compensation: { cause, startedAt: draft.now, layers, layer: 0 },
    operations: [...(state.operations ?? []), record],
  });
  startLayer(draft);
}

/** Done by this run, through its node's own attempt (a reviewer's skip or a replayed step did nothing here). */
function isCompleted(step: StepState): boolean {
  return step.status === "success" && !step.replayedFrom && step.history.at(-1)?.outcome === "success";
}

export function isCompensating(state: RunState): state is RunState & { compensation: RunCompensation } {
  return state.compensation !== undefined && state.compensation.endedAt === undefined;
}

/**
 * Instead of ending, the run starts undoing its completed steps (when its definition says so
 * for this way of ending). True when it did; false when the run ends as usual.
 */
export function beginCompensation(draft: Draft, status: RunStatus, error: RunState["error"]): boolean {
  if (draft.state.compensation) return false;
  const on = draft.plan.compensateOn;
  if (!on || !((status === "failed" && on.failure) || (status === "cancelled" && on.cancel))) return false;
  const cause = status === "failed" ? "failed" : "cancelled";
  const layers = compensationLayers(draft.plan, Object.fromEntries(draft.allSteps().map((s) => [s.nodeId, s])));
  const compensation: RunCompensation = { cause, startedAt: draft.now, layers, layer: 0 };
  if (layers.length === 0) {
    // Nothing completed that could be undone: the run ends now, with nothing left standing.
    draft.updateRun({ compensation: { ...compensation, endedAt: draft.now }, rolledBack: true });
    return false;
  }
  for (const nodeId of layers.flat()) {
    draft.updateStep(nodeId, { compensation: { status: "pending", attempts: 0, interruptions: 0 } });
  }
  draft.updateRun({ status: "running", compensation, ...(error ? { error } : {}) });
  startLayer(draft);
  return true;
}

/** Starts the current layer's pending compensations; moves on past layers that are done; ends the run after the last. */
function startLayer(draft: Draft): void {
  for (;;) {
    const compensation = draft.state.compensation as RunCompensation;
    const group = compensation.layers[compensation.layer];
    if (!group) {
      finish(draft, true);
      return;
    }
    for (const nodeId of group) {
      if (stepCompensation(draft, nodeId).status === "pending") startCompensation(draft, nodeId);
    }
    if (!group.every((nodeId) => stepCompensation(draft, nodeId).status === "success")) return;
    draft.updateRun({ compensation: { ...compensation, layer: compensation.layer + 1 } });
  }
}

function stepCompensation(draft: Draft, nodeId: string): StepCompensation {
  return draft.step(nodeId).compensation ?? { status: "pending", attempts: 0, interruptions: 0 };
}

function updateCompensation(draft: Draft, nodeId: string, patch: Partial<StepCompensation>): StepCompensation {
  const next = { ...stepCompensation(draft, nodeId), ...patch };
  draft.updateStep(nodeId, { compensation: next });
  return next;
}

function startCompensation(draft: Draft, nodeId: string): void {
  const current = stepCompensation(draft, nodeId);
  const next = updateCompensation(draft, nodeId, {
    status: "running",
    attempts: current.attempts + 1,
    interruptions: 0,
    startedAt: current.startedAt ?? draft.now,
    retryAt: undefined,
  });
  emitCompensation(draft, nodeId, next.attempts);
}

function emitCompensation(draft: Draft, nodeId: string, attempt: number): void {
  draft.emit({
    type: "execute",
    nodeId,
    attempt,
    idempotencyKey: compensationKey(draft.state.runId, nodeId),
    timeoutMs: draft.plan.nodes[nodeId]?.compensate?.timeoutMs ?? 30_000,
    compensate: true,
  });
}

/** What an attempt to undo a step came to: done, retried with backoff, or failed for good (review). */
export function compensationResult(draft: Draft, result: NodeResult): void {
  if (!isCompensating(draft.state)) return;
  const current = draft.step(result.nodeId).compensation;
  if (current?.status !== "running" || current.attempts !== result.attempt) return;
  const { outcome } = result;
  if (outcome.type === "success") {
    updateCompensation(draft, result.nodeId, { status: "success", endedAt: draft.now, error: undefined });
    startLayer(draft);
    return;
  }
  const error: ErrorData =
    outcome.type === "failure"
      ? outcome.error
      : errorData("node.failed", `a compensation can only succeed or fail; it came to ${outcome.type}`);
  const retry = draft.plan.nodes[result.nodeId]?.compensate?.retry;
  const failed = current.attempts - (current.attemptBase ?? 0);
  if (retry && shouldRetry(retry, error, failed)) {
    const seed = `${draft.state.runId}:${result.nodeId}:compensate`;
    const at = draft.now + backoffDelay(retry, failed, seed, error.retryAfterMs);
    updateCompensation(draft, result.nodeId, { status: "waiting", retryAt: at, error });
    draft.emit({
      type: "set-timer",
      timer: {
        id: timerId("compensate", result.nodeId, current.attempts),
        at,
        kind: "compensate",
        nodeId: result.nodeId,
        attempt: current.attempts,
      },
    });
    return;
  }
  updateCompensation(draft, result.nodeId, { status: "failed", endedAt: draft.now, error });
}

/**
 * A result of the step itself while the run rolls back: an attempt that was executing when the
 * run failed or was cancelled (cut off, `cancelled`) and succeeded after all. Its effect
 * happened, so it is undone too, in the group under way. (One that comes after the rollback
 * ended, or after a run with nothing else to undo ended at once, finds the run over.)
 */
export function lateResult(draft: Draft, result: NodeResult): void {
  if (!isCompensating(draft.state) || result.outcome.type !== "success") return;
  const step = draft.step(result.nodeId);
  const last = step.history.at(-1);
  if (step.status !== "cancelled" || step.attempts !== result.attempt || last?.outcome !== "cancelled") return;
  if (step.compensation || !draft.plan.nodes[result.nodeId]?.compensate) return;
  const history = [...step.history.slice(0, -1), { ...last, endedAt: draft.now, outcome: "success" as const }];
  draft.updateStep(result.nodeId, { history, compensation: { status: "pending", attempts: 0, interruptions: 0 } });
  const compensation = draft.state.compensation;
  const layers = compensation.layers.map((group, index) =>
    index === compensation.layer ? [...group, result.nodeId] : group,
  );
  draft.updateRun({ compensation: { ...compensation, layers } });
  startCompensation(draft, result.nodeId);
}

/** The backoff of a compensation ran out: its next attempt. */
export function compensationTimer(draft: Draft, nodeId: string, attempt: number): void {
  if (!isCompensating(draft.state)) return;
  const current = draft.step(nodeId).compensation;
  if (current?.status !== "waiting" || current.attempts !== attempt) return;
  startCompensation(draft, nodeId);
}

/** After a restart: a compensation that was executing runs again as the same attempt, with the same key. */
export function resumeCompensation(draft: Draft): void {
  if (!isCompensating(draft.state)) return;
  for (const step of draft.allSteps()) {
    const current = step.compensation;
    if (current?.status !== "running") continue;
    updateCompensation(draft, step.nodeId, { interruptions: current.interruptions + 1 });
    emitCompensation(draft, step.nodeId, current.attempts);
  }
}

/** An operator's retry of a run held by failed compensations: each gets a fresh set of attempts. */
export function retryCompensation(draft: Draft, by: string | undefined): boolean {
  if (!isCompensating(draft.state)) return false;
  const failed = draft.allSteps().filter((step) => step.compensation?.status === "failed");
  if (failed.length === 0) return false;
  for (const step of failed) {
    const current = step.compensation as StepCompensation;
    updateCompensation(draft, step.nodeId, { attemptBase: current.attempts, endedAt: undefined, error: undefined });
    startCompensation(draft, step.nodeId);
  }
  const record = {
    type: "retry" as const,
    at: draft.now,
    nodes: failed.map((step) => step.nodeId),
    ...(by ? { by } : {}),
  };
  draft.updateRun({ operations: [...(draft.state.operations ?? []), record] });
  return true;
}

/** The run is cancelled while rolling back: what is not undone yet stays so, and the run ends. */
export function abandonCompensation(draft: Draft): void {
  if (!isCompensating(draft.state)) return;
  for (const step of draft.allSteps()) {
    const current = step.compensation;
    if (!current || (current.status !== "pending" && current.status !== "running" && current.status !== "waiting")) {
      continue;
    }
    if (current.status === "waiting")
      draft.emit({ type: "clear-timer", id: timerId("compensate", step.nodeId, current.attempts) });
    updateCompensation(draft, step.nodeId, { status: "cancelled", endedAt: draft.now, retryAt: undefined });
  }
  finish(draft, false);
}

function finish(draft: Draft, rolledBack: boolean): void {
  const compensation = draft.state.compensation as RunCompensation;
  draft.updateRun({
    status: compensation.cause,
    endedAt: draft.now,
    rolledBack,
    compensation: { ...compensation, endedAt: draft.now },
  });
  draft.emit({ type: "run-ended", status: compensation.cause });
}

/** While rolling back: running beats a failed compensation (needs_review) beats waiting for a retry. */
export function settleCompensationStatus(draft: Draft): void {
  let running = false;
  let failed = false;
  let waiting = false;
  for (const step of draft.allSteps()) {
    const status = step.compensation?.status;
    if (status === "running") running = true;
    else if (status === "failed") failed = true;
    else if (status === "waiting") waiting = true;
  }
  const status: RunStatus = running ? "running" : failed ? "needs_review" : waiting ? "waiting" : "running";
  if (status !== draft.state.status) draft.updateRun({ status });
}
