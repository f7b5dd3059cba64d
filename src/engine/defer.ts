import type { Draft } from "./draft";
import type { Deferral } from "./outcome";
import { type StepState, timerId } from "./state";
import { emitExecute } from "./step-ops";

/**
 * An attempt that must wait for its turn under a provider limit or an open circuit. Its call was
 * never made, so nothing is spent: not an attempt, not an interruption. The step waits on the
 * run's alarm and the same attempt (same idempotency key, same history entry) executes again
 * when the time comes. A pause holds the timer like any other; cancelling the run clears it.
 */
export function deferAttempt(draft: Draft, nodeId: string, deferral: Deferral): void {
  const step = draft.step(nodeId);
  const history = step.history.slice();
  const last = history[history.length - 1];
  if (last && last.attempt === step.attempts)
    history[history.length - 1] = { ...last, deferrals: (last.deferrals ?? 0) + 1 };
  const at = Math.max(deferral.until, draft.now);
  draft.updateStep(nodeId, { status: "waiting", deferred: { ...deferral, until: at }, history });
  draft.emit({
    type: "set-timer",
    timer: { id: timerId("defer", nodeId, step.attempts), at, kind: "defer", nodeId, attempt: step.attempts },
  });
}

/** The deferred attempt's time has come: it executes again as the same attempt. */
export function resumeDeferred(draft: Draft, step: StepState): void {
  if (step.status !== "waiting" || !step.deferred) return;
  draft.updateStep(step.nodeId, { status: "running", deferred: undefined });
  emitExecute(draft, step.nodeId, step.attempts);
}
