import { type ErrorData, errorData } from "../errors";
import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import type { EventWait } from "./outcome";
import type { StepState } from "./state";
import { timerId } from "./state";
import { succeed } from "./step-ops";

/**
 * Waiting for a named event. The engine keeps the wait and its timeout timer; the shell keeps
 * the buffer of events that came early and evaluates the JSONata match, then hands over the
 * one event that fits.
 */
export function beginEventWait(draft: Draft, nodeId: string, wait: EventWait): void {
  const step = draft.updateStep(nodeId, { status: "waiting", eventWait: { ...wait } });
  draft.emit({
    type: "set-timer",
    timer: {
      id: timerId("event-timeout", nodeId, step.attempts),
      at: wait.until,
      kind: "event-timeout",
      nodeId,
      attempt: step.attempts,
    },
  });
  draft.emit({ type: "await-event", nodeId, attempt: step.attempts, name: wait.name });
}

export function acceptsEvent(step: StepState, event: Extract<RunEvent, { type: "event" }>): boolean {
  return (
    step.status === "waiting" &&
    step.eventWait !== undefined &&
    step.attempts === event.attempt &&
    step.eventWait.name === event.event.name
  );
}

export function deliverEvent(draft: Draft, event: Extract<RunEvent, { type: "event" }>): void {
  const step = draft.step(event.nodeId);
  const wait = step.eventWait;
  if (!wait || !acceptsEvent(step, event)) return;
  draft.emit({ type: "clear-timer", id: timerId("event-timeout", step.nodeId, step.attempts) });
  const { name, id, payload, receivedAt } = event.event;
  const output = wait.output ? { [wait.output]: { name, id, payload, receivedAt, timedOut: false } } : {};
  succeed(draft, step.nodeId, output, eventRoute(draft, step.nodeId, wait.timeoutTo));
}

/** On timeout: take the timeout path if there is one; otherwise the caller fails the step. */
export function timeOutEventWait(draft: Draft, step: StepState): ErrorData | undefined {
  const wait = step.eventWait;
  if (!wait) return undefined;
  if (wait.timeoutTo) {
    const output = wait.output ? { [wait.output]: { name: wait.name, timedOut: true } } : {};
    succeed(draft, step.nodeId, output, [wait.timeoutTo]);
    return undefined;
  }
  draft.updateStep(step.nodeId, { eventWait: undefined });
  return errorData("node.event_timeout", `no event "${wait.name}" arrived in time`, {
    details: { event: wait.name, until: wait.until },
  });
}

/** An event takes every successor but the timeout path. */
function eventRoute(draft: Draft, nodeId: string, timeoutTo: string | undefined): string[] | undefined {
  if (!timeoutTo) return undefined;
  return (draft.plan.nodes[nodeId]?.succs ?? []).filter((succ) => succ !== timeoutTo);
}
