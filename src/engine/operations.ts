import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import type { OperationRecord } from "./state";
import { consider } from "./step-ops";

/**
 * What operators do to a run, as engine events: pause, unpause, retry from the failed steps, and
 * the start of a replay. The handlers in transition.ts check that the event applies (a run that
 * is not failed cannot be retried) and call these; the shell checks the same first, so it can
 * answer with a 4xx instead of a silent no-op.
 */

function record(draft: Draft, entry: OperationRecord): OperationRecord[] {
  return [...(draft.state.operations ?? []), entry];
}

function by(event: { by?: string }): { by?: string } {
  return event.by ? { by: event.by } : {};
}

export function pauseRun(draft: Draft, event: Extract<RunEvent, { type: "pause" }>): void {
  const reason = event.reason ? { reason: event.reason } : {};
  draft.updateRun({
    paused: { at: draft.now, held: [], ...reason, ...by(event) },
    operations: record(draft, { type: "pause", at: draft.now, ...reason, ...by(event) }),
  });
}

/** Clears the pause and returns the timers held meanwhile, earliest first, for the caller to fire. */
export function releasePause(draft: Draft, event: Extract<RunEvent, { type: "unpause" }>) {
  const held = [...(draft.state.paused?.held ?? [])].sort((a, b) => a.at - b.at);
  draft.updateRun({
    paused: undefined,
    operations: record(draft, { type: "unpause", at: draft.now, ...by(event) }),
  });
  return held;
}

/** Starts (or skips) every pending node whose incoming edges are all decided. */
export function considerPending(draft: Draft): void {
  consider(
    draft,
    draft.plan.order.filter((nodeId) => draft.step(nodeId).status === "pending"),
  );
}

/**
 * A failed run goes on from the steps that failed or were cancelled when it failed. They start a
 * new attempt with a fresh retry budget (as after a reviewer's retry); successful steps and those
 * an untaken branch skipped are never run again. Steps the failure kept from running are pending
 * again and start once their predecessors are done. A pause is dropped: the retry is itself an
 * operator's decision.
 */
export function retryRun(draft: Draft, event: Extract<RunEvent, { type: "retry" }>): void {
  for (const step of draft.allSteps()) {
    if (step.status === "skipped" && step.skip) {
      draft.updateStep(step.nodeId, { status: "pending", endedAt: undefined, skip: undefined });
    }
  }
  const restart = draft.plan.order.filter((nodeId) => {
    const status = draft.step(nodeId).status;
    return status === "failed" || status === "cancelled";
  });
  for (const nodeId of restart) {
    const step = draft.step(nodeId);
    draft.updateStep(nodeId, {
      status: "pending",
      endedAt: undefined,
      error: undefined,
      retryAt: undefined,
      wakeAt: undefined,
      eventWait: undefined,
      attemptBase: step.attempts,
      // An llm step starts its model chain again: the retry is for after the cause was fixed.
      ...(step.llm ? { llm: { ...step.llm, modelIndex: 0 } } : {}),
    });
  }
  const moved =
    event.fromVersion !== undefined && event.fromVersion !== draft.state.version
      ? { fromVersion: event.fromVersion, toVersion: draft.state.version }
      : {};
  draft.updateRun({
    status: event.queued ? "queued" : "running",
    endedAt: undefined,
    error: undefined,
    paused: undefined,
    operations: record(draft, { type: "retry", at: draft.now, nodes: restart, ...moved, ...by(event) }),
  });
  if (!event.queued) considerPending(draft);
}

/** A replay starts wherever the steps taken from the original leave off (or waits at a gate first). */
export function startReplay(draft: Draft, queued = false): void {
  if (queued) {
    draft.updateRun({ status: "queued" });
    return;
  }
  draft.updateRun({ status: "running", startedAt: draft.now });
  considerPending(draft);
}
