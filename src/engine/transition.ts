import { type ErrorData, errorData } from "../errors";
import type { NodeOutcome } from "../nodes/types";
import { Draft } from "./draft";
import type { RunEvent, Transition } from "./events";
import type { Plan } from "./plan";
import { backoffDelay, shouldRetry } from "./retry";
import {
  type AttemptOutcome,
  idempotencyKey,
  isSettledStep,
  isTerminalRun,
  type RunState,
  type RunStatus,
  type StepState,
  timerId,
} from "./state";

/** How often one attempt may be cut short by a restart before it counts as failed. */
export const maxInterruptions = 3;

export function initialRunState(plan: Plan, identity: { runId: string; createdAt: number }): RunState {
  const steps: Record<string, StepState> = {};
  for (const nodeId of plan.order) {
    const node = plan.nodes[nodeId];
    if (!node) continue;
    steps[nodeId] = { nodeId, type: node.type, status: "pending", attempts: 0, interruptions: 0, history: [] };
  }
  return {
    runId: identity.runId,
    workflowId: plan.workflowId,
    version: plan.version,
    status: "pending",
    createdAt: identity.createdAt,
    updatedAt: identity.createdAt,
    contextVersion: 0,
    steps,
  };
}

type Handlers = { [K in RunEvent["type"]]: (draft: Draft, event: Extract<RunEvent, { type: K }>) => void };

const handlers: Handlers = {
  start(draft) {
    if (draft.state.status !== "pending") return;
    draft.updateRun({ status: "running", startedAt: draft.now });
    consider(
      draft,
      draft.plan.order.filter((id) => draft.plan.nodes[id]?.preds.length === 0),
    );
  },
  resume(draft) {
    if (isTerminalRun(draft.state.status)) return;
    const running = draft.allSteps().filter((step) => step.status === "running");
    // A worn-out attempt fails the run (cancelling the others) before anything is re-executed.
    const worn = running.find((step) => step.interruptions >= maxInterruptions);
    if (worn) {
      const error = errorData(
        "node.interrupted",
        `attempt ${worn.attempts} of ${worn.nodeId} was interrupted ${worn.interruptions + 1} times`,
      );
      closeAttempt(draft, worn.nodeId, "interrupted", error);
      failStep(draft, worn.nodeId, error);
      return;
    }
    for (const step of running) {
      // Same attempt, same idempotency key: the downstream service can tell it is a repeat.
      draft.updateStep(step.nodeId, { interruptions: step.interruptions + 1 });
      emitExecute(draft, step.nodeId, step.attempts);
    }
    if (draft.state.status === "pending") handlers.start(draft, { type: "start" });
  },
  "node-result"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    const step = draft.step(event.nodeId);
    if (step.status !== "running" || step.attempts !== event.attempt) return;
    applyOutcome(draft, event.nodeId, event.outcome);
  },
  timer(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    const { timer } = event;
    const step = draft.step(timer.nodeId);
    if (step.status !== "waiting" || step.attempts !== timer.attempt) return;
    if (timer.kind === "retry" && step.retryAt !== undefined) {
      startAttempt(draft, timer.nodeId);
    } else if (timer.kind === "wake" && step.wakeAt !== undefined) {
      succeed(draft, timer.nodeId, {}, undefined);
    }
  },
  cancel(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    endRun(draft, "cancelled", errorData("run.cancelled", event.reason ?? "cancelled"));
  },
};

/** The pure core: what an event does to a run, and what the shell must do about it. */
export function transition(plan: Plan, state: RunState, event: RunEvent, now: number): Transition {
  const draft = new Draft(plan, state, now);
  // The table is exhaustive over RunEvent: a new event type without a handler fails to compile.
  (handlers[event.type] as (draft: Draft, event: RunEvent) => void)(draft, event);
  if (!isTerminalRun(draft.state.status) && draft.state.status !== "pending") settleRunStatus(draft);
  return draft.finish();
}

function applyOutcome(draft: Draft, nodeId: string, outcome: NodeOutcome): void {
  switch (outcome.type) {
    case "success":
      closeAttempt(draft, nodeId, "success");
      succeed(draft, nodeId, outcome.output, outcome.route);
      return;
    case "sleep":
      closeAttempt(draft, nodeId, "sleep");
      if (outcome.until <= draft.now) {
        succeed(draft, nodeId, {}, undefined);
        return;
      }
      sleep(draft, nodeId, outcome.until);
      return;
    case "failure":
      closeAttempt(draft, nodeId, "failure", outcome.error);
      handleFailure(draft, nodeId, outcome.error);
      return;
  }
}

function closeAttempt(draft: Draft, nodeId: string, outcome: AttemptOutcome, error?: ErrorData) {
  const step = draft.step(nodeId);
  const history = step.history.slice();
  const last = history[history.length - 1];
  if (last && last.attempt === step.attempts) {
    history[history.length - 1] = { ...last, endedAt: draft.now, outcome, ...(error ? { error } : {}) };
  }
  draft.updateStep(nodeId, { history });
}

function succeed(draft: Draft, nodeId: string, output: StepState["output"] & object, route: string[] | undefined) {
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
    ...(route ? { route } : {}),
  });
  consider(draft, draft.plan.nodes[nodeId]?.succs ?? []);
}

function sleep(draft: Draft, nodeId: string, until: number): void {
  const step = draft.updateStep(nodeId, { status: "waiting", wakeAt: until });
  draft.emit({
    type: "set-timer",
    timer: { id: timerId("wake", nodeId, step.attempts), at: until, kind: "wake", nodeId, attempt: step.attempts },
  });
}

function handleFailure(draft: Draft, nodeId: string, error: ErrorData): void {
  const node = draft.plan.nodes[nodeId];
  const step = draft.step(nodeId);
  if (node && shouldRetry(node.retry, error, step.attempts)) {
    const at =
      draft.now + backoffDelay(node.retry, step.attempts, `${draft.state.runId}:${nodeId}`, error.retryAfterMs);
    draft.updateStep(nodeId, { status: "waiting", retryAt: at, error });
    draft.emit({
      type: "set-timer",
      timer: { id: timerId("retry", nodeId, step.attempts), at, kind: "retry", nodeId, attempt: step.attempts },
    });
    return;
  }
  failStep(draft, nodeId, error);
}

function failStep(draft: Draft, nodeId: string, error: ErrorData): void {
  draft.updateStep(nodeId, { status: "failed", endedAt: draft.now, error, retryAt: undefined });
  endRun(draft, "failed", { ...error, nodeId });
}

function endRun(draft: Draft, status: RunStatus, error: RunState["error"]): void {
  for (const step of draft.allSteps()) {
    if (step.status !== "running" && step.status !== "waiting") continue;
    if (step.status === "running") closeAttempt(draft, step.nodeId, "cancelled");
    if (step.status === "waiting") {
      const kind = step.wakeAt !== undefined ? "wake" : "retry";
      draft.emit({ type: "clear-timer", id: timerId(kind, step.nodeId, step.attempts) });
    }
    draft.updateStep(step.nodeId, { status: "cancelled", endedAt: draft.now, retryAt: undefined, wakeAt: undefined });
  }
  draft.updateRun({ status, endedAt: draft.now, ...(error ? { error } : {}) });
  draft.emit({ type: "run-ended", status });
}

function startAttempt(draft: Draft, nodeId: string): void {
  const step = draft.step(nodeId);
  const attempt = step.attempts + 1;
  draft.updateStep(nodeId, {
    status: "running",
    attempts: attempt,
    interruptions: 0,
    startedAt: step.startedAt ?? draft.now,
    inputVersion: draft.state.contextVersion,
    retryAt: undefined,
    history: [...step.history, { attempt, startedAt: draft.now }],
  });
  emitExecute(draft, nodeId, attempt);
}

function emitExecute(draft: Draft, nodeId: string, attempt: number): void {
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
function consider(draft: Draft, candidates: readonly string[]): void {
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

function settleRunStatus(draft: Draft): void {
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
  const status: RunStatus = running ? "running" : review ? "needs_review" : waiting ? "waiting" : "running";
  if (status !== draft.state.status) draft.updateRun({ status });
}
