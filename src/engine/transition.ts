/**
 * The pure engine: `transition(plan, state, event, now)` gives the next run state, the commands
 * the shell carries out and the steps that changed. No bindings, no I/O, no clock of its own;
 * it imports only lib, llm types and errors (checked by Biome, see docs/architecture.md).
 */
import { type ErrorData, errorData } from "../errors";
import { beginChildren, childEnded, childrenCollected, resumeChildren } from "./children";
import {
  abandonCompensation,
  compensateEndedRun,
  compensationResult,
  compensationTimer,
  isCompensating,
  lateResult,
  resumeCompensation,
  retryCompensation,
  settleCompensationStatus,
} from "./compensation";
import { deferAttempt, resumeDeferred } from "./defer";
import { Draft } from "./draft";
import { beginEventWait, deliverEvent, timeOutEventWait } from "./event-wait";
import type { RunEvent, Transition } from "./events";
import { failInterrupted, interruptAttempt, isWornOut, resendAttempt } from "./lease";
import { escalateStep, llmFallback, recordLlmAttempt } from "./llm";
import { considerPending, pauseRun, releasePause, retryRun, startReplay } from "./operations";
import type { NodeOutcome } from "./outcome";
import { holdTimer } from "./pause";
import type { Plan } from "./plan";
import { backoffDelay, shouldRetry } from "./retry";
import {
  applyDecision,
  beginApproval,
  beginEscalation,
  expireReview,
  noteDeliveryFailure,
  remindReview,
} from "./review";
import { isTerminalRun, type RunState, type StepState, type Timer, type TimerKind, timerId } from "./state";
import { closeAttempt, consider, endRun, failStep, settleRunStatus, startAttempt, succeed } from "./step-ops";

export { maxInterruptions } from "./lease";

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
    if (draft.state.status !== "pending" && draft.state.status !== "queued") return;
    // A retry or a replay that waited at a gate goes on from where its settled steps leave off.
    const resumed = draft.state.status === "queued" && draft.allSteps().some((step) => step.status !== "pending");
    draft.updateRun({ status: "running", ...(draft.state.startedAt === undefined ? { startedAt: draft.now } : {}) });
    if (resumed) {
      considerPending(draft);
      return;
    }
    consider(
      draft,
      draft.plan.order.filter((id) => draft.plan.nodes[id]?.preds.length === 0),
    );
  },
  resume(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    if (isCompensating(draft.state)) {
      resumeCompensation(draft);
      return;
    }
    const leased = new Set(event.leased ?? []);
    const unclaimed = new Set(event.unclaimed ?? []);
    const running = draft.allSteps().filter((step) => step.status === "running" && !leased.has(step.nodeId));
    const cut = running.filter((step) => !unclaimed.has(step.nodeId));
    // A worn-out attempt fails the run (cancelling the others) before anything is re-executed.
    const worn = cut.find(isWornOut);
    if (worn) {
      failInterrupted(draft, worn);
      return;
    }
    for (const step of running) {
      if (unclaimed.has(step.nodeId)) resendAttempt(draft, step);
      else interruptAttempt(draft, step);
    }
    if (draft.state.status === "pending") handlers.start(draft, { type: "start" });
  },
  "lease-expired"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    const step = draft.step(event.nodeId);
    if (step.status !== "running" || step.attempts !== event.attempt) return;
    if (event.claimed) interruptAttempt(draft, step);
    else resendAttempt(draft, step);
  },
  "node-result"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    if (event.compensate) {
      compensationResult(draft, event);
      return;
    }
    if (isCompensating(draft.state)) {
      lateResult(draft, event);
      return;
    }
    const step = draft.step(event.nodeId);
    if (step.status !== "running" || step.attempts !== event.attempt) return;
    recordLlmAttempt(draft, event.nodeId, event.outcome);
    applyOutcome(draft, event.nodeId, event.outcome);
  },
  "node-results"(draft, event) {
    for (const result of event.results) handlers["node-result"](draft, { type: "node-result", ...result });
  },
  timer(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    const { timer } = event;
    if (timer.kind === "compensate") {
      compensationTimer(draft, timer.nodeId, timer.attempt);
      return;
    }
    const step = draft.step(timer.nodeId);
    if (step.attempts !== timer.attempt) return;
    // A paused run keeps the timer and fires it when unpaused.
    if (holdTimer(draft, timer)) return;
    timerHandlers[timer.kind](draft, step, timer);
  },
  cancel(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    if (isCompensating(draft.state)) {
      abandonCompensation(draft);
      return;
    }
    endRun(draft, "cancelled", errorData("run.cancelled", event.reason ?? "cancelled"));
  },
  decision(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    applyDecision(draft, event);
  },
  event(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    deliverEvent(draft, event);
  },
  "delivery-failed"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    noteDeliveryFailure(draft, event);
  },
  pause(draft, event) {
    // A queued run has nothing to pause: its gate decides when it starts, and cancel still ends it.
    if (isTerminalRun(draft.state.status) || draft.state.paused || draft.state.status === "queued") return;
    // Rolling back is not paused: what is undone half-way is worse than either end.
    if (isCompensating(draft.state)) return;
    pauseRun(draft, event);
  },
  unpause(draft, event) {
    if (isTerminalRun(draft.state.status) || !draft.state.paused) return;
    for (const timer of releasePause(draft, event)) handlers.timer(draft, { type: "timer", timer });
    considerPending(draft);
    resumeChildren(draft);
  },
  retry(draft, event) {
    if (retryCompensation(draft, event.by)) return;
    // A run that rolled back is not taken up again: its completed steps have been undone.
    if (draft.state.status !== "failed" || draft.state.compensation?.layers.length) return;
    retryRun(draft, event);
  },
  compensate(draft, event) {
    compensateEndedRun(draft, event);
  },
  "start-replay"(draft, event) {
    if (draft.state.status !== "pending") return;
    startReplay(draft, event.queued === true);
  },
  "child-ended"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    const error = childEnded(draft, event);
    if (error) handleFailure(draft, event.nodeId, error);
  },
  "children-collected"(draft, event) {
    if (isTerminalRun(draft.state.status)) return;
    childrenCollected(draft, event);
  },
};

type TimerHandlers = { [K in TimerKind]: (draft: Draft, step: StepState, timer: Timer) => void };

/** Each kind acts only on the state that armed it: a stale timer is a no-op. */
const timerHandlers: TimerHandlers = {
  retry(draft, step) {
    if (step.status === "waiting" && step.retryAt !== undefined) startAttempt(draft, step.nodeId);
  },
  wake(draft, step) {
    if (step.status === "waiting" && step.wakeAt !== undefined) succeed(draft, step.nodeId, {}, undefined);
  },
  expire(draft, step, timer) {
    if (step.status === "needs_review" && step.review?.round === timer.round) expireReview(draft, step);
  },
  remind(draft, step, timer) {
    if (step.status === "needs_review" && step.review?.round === timer.round) remindReview(draft, step);
  },
  defer(draft, step) {
    resumeDeferred(draft, step);
  },
  // Compensation timers are taken before the step's attempt check (src/engine/compensation.ts).
  compensate() {},
  "event-timeout"(draft, step) {
    if (step.status !== "waiting" || !step.eventWait) return;
    const error = timeOutEventWait(draft, step);
    if (error) handleFailure(draft, step.nodeId, error);
  },
};

/** The pure core: what an event does to a run, and what the shell must do about it. */
export function transition(plan: Plan, state: RunState, event: RunEvent, now: number): Transition {
  const draft = new Draft(plan, state, now);
  // The table is exhaustive over RunEvent: a new event type without a handler fails to compile.
  (handlers[event.type] as (draft: Draft, event: RunEvent) => void)(draft, event);
  // A run not started yet (pending, or queued at a flow-control gate) keeps its status until `start`.
  if (isCompensating(draft.state)) settleCompensationStatus(draft);
  else if (!isTerminalRun(draft.state.status) && draft.state.status !== "pending" && draft.state.status !== "queued") {
    settleRunStatus(draft);
  }
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
    case "await-review":
      closeAttempt(draft, nodeId, "await-review");
      beginApproval(draft, nodeId, outcome.review);
      return;
    case "await-event":
      closeAttempt(draft, nodeId, "await-event");
      beginEventWait(draft, nodeId, outcome.wait);
      return;
    case "escalate":
      closeAttempt(draft, nodeId, "escalated", outcome.error);
      escalateStep(draft, nodeId, outcome.error);
      return;
    case "spawn":
      closeAttempt(draft, nodeId, "await-children");
      beginChildren(draft, nodeId, outcome.spawn);
      return;
    case "deferred":
      deferAttempt(draft, nodeId, outcome.deferral);
      return;
  }
}

function sleep(draft: Draft, nodeId: string, until: number): void {
  const step = draft.updateStep(nodeId, { status: "waiting", wakeAt: until });
  draft.emit({
    type: "set-timer",
    timer: { id: timerId("wake", nodeId, step.attempts), at: until, kind: "wake", nodeId, attempt: step.attempts },
  });
}

/**
 * Retry with backoff while the policy allows; hand the step to reviewers when it names an
 * escalation and the threshold is reached or retries ran out; otherwise fail the run.
 */
function handleFailure(draft: Draft, nodeId: string, error: ErrorData): void {
  if (llmFallback(draft, nodeId, error)) return;
  const node = draft.plan.nodes[nodeId];
  const step = draft.step(nodeId);
  // Attempts since the last reviewer's retry: a retry from review starts the count again.
  const failed = step.attempts - (step.attemptBase ?? 0);
  const retry = node !== undefined && shouldRetry(node.retry, error, failed);
  const escalation = node?.retry.escalation;
  if (escalation && escalation.reviewers.length > 0 && (failed >= escalation.after || !retry)) {
    beginEscalation(draft, nodeId, error);
    return;
  }
  if (node && retry) {
    const at = draft.now + backoffDelay(node.retry, failed, `${draft.state.runId}:${nodeId}`, error.retryAfterMs);
    draft.updateStep(nodeId, { status: "waiting", retryAt: at, error });
    draft.emit({
      type: "set-timer",
      timer: { id: timerId("retry", nodeId, step.attempts), at, kind: "retry", nodeId, attempt: step.attempts },
    });
    return;
  }
  failStep(draft, nodeId, error);
}
