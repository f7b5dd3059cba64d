import { type ErrorData, errorData } from "../errors";
import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import type { SpawnRequest } from "./outcome";
import type { ChildrenState, StepState } from "./state";
import { failStep, succeed } from "./step-ops";

/**
 * Steps that run child runs: every map item, loop iteration and subworkflow call is a run of
 * its own. The engine decides which children start (up to `concurrency`, in index order), when
 * the step fails (more failures than it tolerates, a loop that never finished) and when it is
 * done; the shell starts and cancels the runs, keeps their inputs and outputs, and assembles
 * the step's output once every child settled (`collect-children`).
 *
 * The step waits (`waiting`) while its children run: a restart must not execute the node
 * again, and the shell, not the engine, re-issues the starts it owes.
 */

export function beginChildren(draft: Draft, nodeId: string, spawn: SpawnRequest): void {
  const children: ChildrenState = {
    mode: spawn.mode,
    total: spawn.count,
    concurrency: Math.max(1, spawn.concurrency),
    tolerance: Math.max(0, spawn.tolerance),
    next: 0,
    running: [],
    succeeded: 0,
    failed: 0,
    maxRunning: 0,
    phase: "running",
  };
  draft.updateStep(nodeId, { status: "waiting", children });
  fill(draft, nodeId);
}

function isOpen(step: StepState): step is StepState & { children: ChildrenState } {
  return step.status === "waiting" && step.children?.phase === "running";
}

/**
 * Starts children while there is room and the run is not paused; collects once nothing is out
 * and nothing is left to start.
 */
function fill(draft: Draft, nodeId: string): void {
  const step = draft.step(nodeId);
  if (!isOpen(step)) return;
  const { children } = step;
  const running = [...children.running];
  let next = children.next;
  if (!draft.state.paused) {
    while (running.length < children.concurrency && next < children.total) {
      draft.emit({ type: "start-child", nodeId, attempt: step.attempts, index: next });
      running.push(next);
      next += 1;
    }
  }
  if (running.length === 0 && next >= children.total) {
    draft.updateStep(nodeId, { children: { ...children, next, running, phase: "collecting" } });
    draft.emit({ type: "collect-children", nodeId, attempt: step.attempts });
    return;
  }
  if (next === children.next) return;
  draft.updateStep(nodeId, {
    children: { ...children, next, running, maxRunning: Math.max(children.maxRunning, running.length) },
  });
}

/**
 * A child's end. Returns the error the step fails with, for the caller's retry policy; the
 * children still out are cancelled first.
 */
export function childEnded(draft: Draft, event: Extract<RunEvent, { type: "child-ended" }>): ErrorData | undefined {
  const step = draft.step(event.nodeId);
  if (!isOpen(step) || step.attempts !== event.attempt || !step.children.running.includes(event.index)) {
    return undefined;
  }
  const before = step.children;
  const running = before.running.filter((index) => index !== event.index);
  if (event.status === "success") {
    const children = { ...before, running, succeeded: before.succeeded + 1 };
    if (before.mode === "loop" && event.done) {
      // The loop's condition held: no further iteration.
      draft.updateStep(event.nodeId, { children: { ...children, total: children.next } });
    } else if (before.mode === "loop" && before.next >= before.total) {
      draft.updateStep(event.nodeId, { children });
      stop(draft, event.nodeId);
      return errorData("loop.max_iterations", `the loop ran ${before.total} iterations and its condition never held`, {
        details: { iterations: before.total },
      });
    } else {
      draft.updateStep(event.nodeId, { children });
    }
    fill(draft, event.nodeId);
    return undefined;
  }
  const failed = before.failed + 1;
  draft.updateStep(event.nodeId, { children: { ...before, running, failed } });
  if (failed <= before.tolerance) {
    fill(draft, event.nodeId);
    return undefined;
  }
  stop(draft, event.nodeId);
  return childFailure(before, event, failed);
}

function childFailure(
  children: ChildrenState,
  event: Extract<RunEvent, { type: "child-ended" }>,
  failed: number,
): ErrorData {
  const cause = event.error ?? errorData("run.cancelled", `child ${event.index} was ${event.status}`);
  const retryable = { retryable: cause.retryable };
  switch (children.mode) {
    case "subworkflow":
      return errorData("subworkflow.failed", `the subworkflow failed: ${cause.message}`, {
        ...retryable,
        details: { cause },
      });
    case "loop":
      return errorData("loop.iteration_failed", `iteration ${event.index + 1} failed: ${cause.message}`, {
        ...retryable,
        details: { iteration: event.index + 1, cause },
      });
    case "map":
      if (children.tolerance === 0) {
        return errorData("map.item_failed", `item ${event.index} failed: ${cause.message}`, {
          ...retryable,
          details: { index: event.index, cause },
        });
      }
      return errorData(
        "map.too_many_failures",
        `${failed} items failed, more than the ${children.tolerance} tolerated (last: item ${event.index}: ${cause.message})`,
        { ...retryable, details: { failed, tolerated: children.tolerance, index: event.index, cause } },
      );
  }
}

/** The step gives up on its children: those out are cancelled, nothing more starts. */
function stop(draft: Draft, nodeId: string): void {
  const step = draft.step(nodeId);
  const children = step.children;
  if (!children) return;
  if (children.running.length > 0) {
    draft.emit({ type: "cancel-children", nodeId, attempt: step.attempts, indices: children.running });
  }
  draft.updateStep(nodeId, { children: { ...children, running: [], phase: "failed" } });
}

export function childrenCollected(draft: Draft, event: Extract<RunEvent, { type: "children-collected" }>): void {
  const step = draft.step(event.nodeId);
  const children = step.children;
  if (step.status !== "waiting" || step.attempts !== event.attempt || children?.phase !== "collecting") return;
  draft.updateStep(event.nodeId, { children: { ...children, phase: "done" } });
  if (event.error) failStep(draft, event.nodeId, event.error);
  else succeed(draft, event.nodeId, event.output ?? {}, undefined);
}

/** After an unpause: the children held back start. */
export function resumeChildren(draft: Draft): void {
  for (const step of draft.allSteps()) if (isOpen(step)) fill(draft, step.nodeId);
}
