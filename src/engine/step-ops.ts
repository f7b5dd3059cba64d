import type { ErrorData } from "../errors";
import type { JsonObject } from "../lib/json";
import { beginCompensation } from "./compensation";
import type { Draft } from "./draft";
import { holdStart } from "./pause";
import {
  type AttemptOutcome,
  idempotencyKey,
  isSettledStep,
  type RunState,
  type RunStatus,
  type StepState,
  timerId,
} from "./state";
import { writeConflict } from "./write-conflict";

/** The operations every handler shares: closing attempts, finishing steps, starting nodes. */

export function closeAttempt(draft: Draft, nodeId: string, outcome: AttemptOutcome, error?: ErrorData): void {
  const step = draft.step(nodeId);
  const history = step.history.slice();
  const last = history[history.length - 1];
  if (last && last.attempt === step.attempts) {
    history[history.length - 1] = { ...last, endedAt: draft.now, outcome, ...(error ? { error } : {}) };
  }
  draft.updateStep(nodeId, { history });
}

export function succeed(draft: Draft, nodeId: string, output: JsonObject, route: string[] | undefined): void {
  const conflict = writeConflict(draft, nodeId, output);
  if (conflict) {
    // The attempt's result is what would have been written: it ends as this failure.
    closeAttempt(draft, nodeId, "failure", conflict);
    failStep(draft, nodeId, conflict);
    return;
  }
  const version = draft.state.contextVersion + 1;
  draft.updateRun({ contextVersion: version });
  draft.emit({ type: "write-context", nodeId, version, patch: output });
  draft.updateStep(nodeId, {
    status: "success",
    endedAt: draft.now,
    output,
    contextVersion: version,
    error: undefined,
    retryAt: undefined,
    wakeAt: undefined,
    eventWait: undefined,
    ...(route ? { route } : {}),
  });
  consider(draft, draft.plan.nodes[nodeId]?.succs ?? []);
}

export function failStep(draft: Draft, nodeId: string, error: ErrorData): void {
  draft.updateStep(nodeId, {
    status: "failed",
    endedAt: draft.now,
    error,
    retryAt: undefined,
    wakeAt: undefined,
    eventWait: undefined,
  });
  endRun(draft, "failed", { ...error, nodeId });
}

/** The timers a step has armed in its current status; what must be cleared when it moves on. */
export function pendingTimerIds(step: StepState): string[] {
  if (step.status === "waiting") {
    if (step.deferred) return [timerId("defer", step.nodeId, step.attempts)];
    if (step.wakeAt !== undefined) return [timerId("wake", step.nodeId, step.attempts)];
    if (step.eventWait) return [timerId("event-timeout", step.nodeId, step.attempts)];
    return [timerId("retry", step.nodeId, step.attempts)];
  }
  if (step.status === "needs_review" && step.review) {
    const { round, remindBeforeMs } = step.review;
    return [
      timerId("expire", step.nodeId, step.attempts, round),
      ...remindBeforeMs.map((_, index) => timerId("remind", step.nodeId, step.attempts, `${round}.${index}`)),
    ];
  }
  return [];
}

export function clearTimers(draft: Draft, step: StepState): void {
  for (const id of pendingTimerIds(step)) draft.emit({ type: "clear-timer", id });
}

export function endRun(draft: Draft, status: RunStatus, error: RunState["error"]): void {
  for (const step of draft.allSteps()) {
    // A step the run never reached is settled with the reason, so reports and D1 do not show
    // it pending forever; a successful run has none (it ends once every step is settled).
    if (step.status === "pending" && (status === "failed" || status === "cancelled")) {
      draft.updateStep(step.nodeId, { status: "skipped", endedAt: draft.now, skip: { reason: `run.${status}` } });
      continue;
    }
    if (step.status !== "running" && step.status !== "waiting" && step.status !== "needs_review") continue;
    if (step.status === "running") closeAttempt(draft, step.nodeId, "cancelled");
    clearTimers(draft, step);
    // Child runs still out are cancelled with the run (and theirs with them: src/engine/children.ts).
    if (step.children?.phase === "running" && step.children.running.length > 0) {
      const indices = step.children.running;
      draft.emit({ type: "cancel-children", nodeId: step.nodeId, attempt: step.attempts, indices });
      draft.updateStep(step.nodeId, { children: { ...step.children, running: [], phase: "failed" } });
    }
    draft.updateStep(step.nodeId, {
      status: "cancelled",
      endedAt: draft.now,
      retryAt: undefined,
      wakeAt: undefined,
      eventWait: undefined,
      deferred: undefined,
    });
  }
  // A run that compensates undoes its completed steps first; it ends when they are undone.
  if (beginCompensation(draft, status, error)) return;
  draft.updateRun({ status, endedAt: draft.now, ...(error ? { error } : {}) });
  draft.emit({ type: "run-ended", status });
}

export function startAttempt(draft: Draft, nodeId: string): void {
  if (holdStart(draft, nodeId)) return;
  const step = draft.step(nodeId);
  const attempt = step.attempts + 1;
  draft.updateStep(nodeId, {
    status: "running",
    attempts: attempt,
    interruptions: 0,
    resends: undefined,
    startedAt: step.startedAt ?? draft.now,
    inputVersion: draft.state.contextVersion,
    retryAt: undefined,
    history: [...step.history, { attempt, startedAt: draft.now, inputVersion: draft.state.contextVersion }],
  });
  emitExecute(draft, nodeId, attempt);
}

export function emitExecute(draft: Draft, nodeId: string, attempt: number): void {
  draft.emit({
    type: "execute",
    nodeId,
    attempt,
    idempotencyKey: idempotencyKey(draft.state.runId, nodeId, attempt),
    timeoutMs: draft.plan.nodes[nodeId]?.timeoutMs ?? 30_000,
  });
}

type EdgeState = "taken" | "dead" | "open";

function edgeState(draft: Draft, from: string, to: string): EdgeState {
  const source = draft.step(from);
  if (source.status === "skipped") return "dead";
  if (source.status !== "success") return "open";
  if (draft.plan.nodes[from]?.routes) return source.route?.includes(to) ? "taken" : "dead";
  return "taken";
}

/**
 * Starts or skips the given pending nodes once every incoming edge is decided. A node whose
 * incoming edges are all dead is skipped, and the skip is pushed on to its successors so a
 * join after an untaken branch does not wait forever.
 */
export function consider(draft: Draft, candidates: readonly string[]): void {
  const queue = [...candidates];
  while (queue.length > 0) {
    const nodeId = queue.shift() as string;
    const node = draft.plan.nodes[nodeId];
    if (!node || draft.step(nodeId).status !== "pending") continue;
    let taken = node.preds.length === 0;
    let open = false;
    for (const pred of node.preds) {
      const state = edgeState(draft, pred, nodeId);
      if (state === "open") open = true;
      if (state === "taken") taken = true;
    }
    if (open) continue;
    if (taken) {
      startAttempt(draft, nodeId);
    } else {
      draft.updateStep(nodeId, { status: "skipped", endedAt: draft.now });
      queue.push(...node.succs);
    }
  }
}

/** Run status is derived: running beats needs_review beats waiting; all settled ends the run. */
export function settleRunStatus(draft: Draft): void {
  let running = false;
  let review = false;
  let waiting = false;
  let unsettled = false;
  for (const step of draft.allSteps()) {
    if (step.status === "running") running = true;
    else if (step.status === "needs_review") review = true;
    else if (step.status === "waiting") waiting = true;
    if (!isSettledStep(step.status)) unsettled = true;
  }
  if (!unsettled) {
    endRun(draft, "success", undefined);
    return;
  }
  const status: RunStatus = draft.state.paused
    ? "paused"
    : running
      ? "running"
      : review
        ? "needs_review"
        : waiting
          ? "waiting"
          : "running";
  if (status !== draft.state.status) draft.updateRun({ status });
}
