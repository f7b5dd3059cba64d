import { errorData } from "../errors";
import type { Draft } from "./draft";
import type { StepState } from "./state";
import { closeAttempt, emitExecute, failStep } from "./step-ops";

/** How often one attempt may be cut short (a restart, a lost dispatch) before it counts as failed. */
export const maxInterruptions = 3;

/**
 * An attempt that was running got no result: the object restarted around it, or the message
 * that carried it to a queue consumer was lost. It runs again as the same attempt (same
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
