import type { Draft } from "./draft";
import { type Timer, timerId } from "./state";

/**
 * Holding a paused run. Pausing never interrupts an attempt already executing (its result is
 * recorded when it comes); it stops anything new from starting. Every way a node starts goes
 * through `startAttempt`, which asks `holdStart` first, and every engine timer through
 * `holdTimer`, so the rule lives in one place.
 */

/**
 * While paused nothing starts. A pending node stays pending: unpausing considers every pending
 * node again. A step that was to run another attempt (a reviewer's retry) waits as a retry due
 * now, held until the run is unpaused.
 */
export function holdStart(draft: Draft, nodeId: string): boolean {
  if (!draft.state.paused) return false;
  const step = draft.step(nodeId);
  if (step.status === "pending") return true;
  draft.updateStep(nodeId, { status: "waiting", retryAt: draft.now });
  holdTimer(draft, {
    id: timerId("retry", nodeId, step.attempts),
    at: draft.now,
    kind: "retry",
    nodeId,
    attempt: step.attempts,
  });
  return true;
}

/** A timer that comes due while paused is kept in the run's state and fired on unpause. */
export function holdTimer(draft: Draft, timer: Timer): boolean {
  const paused = draft.state.paused;
  if (!paused) return false;
  if (!paused.held.some((held) => held.id === timer.id)) {
    draft.updateRun({ paused: { ...paused, held: [...paused.held, timer] } });
  }
  return true;
}
