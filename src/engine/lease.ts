import { errorData } from "../errors";
import type { Draft } from "./draft";
import type { StepState } from "./state";
import { closeAttempt, emitExecute, failStep } from "./step-ops";

/**
 * How often one attempt that really ran may be cut short (a restart around it, a consumer that
 * claimed it and went quiet) before it counts as failed. Messages lost before any consumer took
 * them are not counted: see `resendAttempt`.
 */
export const maxInterruptions = 3;

/**
 * An attempt that was running got no result: the object restarted around it, or the queue
 * consumer that claimed it never reported. It runs again as the same attempt (same
 * idempotency key, so the downstream service can tell it is a repeat) until it has been cut
 * short too often; then it fails the step with `node.interrupted`.
 */
export function interruptAttempt(draft: Draft, step: StepState): void {
  if (isWornOut(step)) {
    failInterrupted(draft, step);
    return;
  }
  draft.updateStep(step.nodeId, { interruptions: step.interruptions + 1 });
  emitExecute(draft, step.nodeId, step.attempts);
}

/**
 * The attempt's message never reached a consumer (a dev server restart loses queued messages; a
 * message nobody could claim went to the dead-letter queue): nothing ran, so it is sent again
 * without spending an interruption or an attempt.
 */
export function resendAttempt(draft: Draft, step: StepState): void {
  draft.updateStep(step.nodeId, { resends: (step.resends ?? 0) + 1 });
  emitExecute(draft, step.nodeId, step.attempts);
}

/**
 * Which sending of the current attempt this is. It grows with every interruption and every
 * resend, so a late message of an earlier sending never matches the attempt's live lease.
 */
export function sendingNumber(step: Pick<StepState, "interruptions" | "resends">): number {
  return step.interruptions + (step.resends ?? 0);
}

export function isWornOut(step: StepState): boolean {
  return step.interruptions >= maxInterruptions;
}

export function failInterrupted(draft: Draft, step: StepState): void {
  const error = errorData(
    "node.interrupted",
    `attempt ${step.attempts} of ${step.nodeId} was interrupted ${step.interruptions + 1} times`,
  );
  closeAttempt(draft, step.nodeId, "interrupted", error);
  failStep(draft, step.nodeId, error);
}
