import type { ErrorCode } from "../errors";
import type { Plan } from "./plan";
import { isGraphSkip, type RunState, type StepState, terminalRunStatuses } from "./state";
import { initialRunState } from "./transition";

/**
 * Pure rules for the two operations that move steps between plans or runs: retrying a failed run
 * on a newer version of its workflow, and replaying a run from one of its nodes as a new run.
 */

/** Ran to success or was skipped by the graph; a step the run's end cut off did not complete. */
function completed(step: StepState | undefined): boolean {
  return step !== undefined && (step.status === "success" || isGraphSkip(step));
}

export interface RebaseProblem {
  nodeId: string;
  reason: "removed" | "type_changed" | "new_predecessor";
  /** For `new_predecessor`: the node the new version puts before it, which has not completed. */
  predecessor?: string;
}

export type Rebase = { ok: true; state: RunState; dropped: string[] } | { ok: false; problems: RebaseProblem[] };

/**
 * Moves a run's steps onto another version's plan, keeping every completed step. That is only
 * possible when each completed step still exists with the same type and everything the new
 * version puts before it has completed too: a completed step is never run again, so nothing may
 * come before it that did not happen. Steps that did not complete take the new version's node
 * (and type); nodes the new version removed are dropped; nodes it added start pending.
 */
export function rebaseOnto(plan: Plan, state: RunState): Rebase {
  const problems: RebaseProblem[] = [];
  for (const step of Object.values(state.steps)) {
    if (!completed(step)) continue;
    const node = plan.nodes[step.nodeId];
    if (!node) {
      problems.push({ nodeId: step.nodeId, reason: "removed" });
      continue;
    }
    if (node.type !== step.type) {
      problems.push({ nodeId: step.nodeId, reason: "type_changed" });
      continue;
    }
    for (const pred of node.preds) {
      if (!completed(state.steps[pred])) {
        problems.push({ nodeId: step.nodeId, reason: "new_predecessor", predecessor: pred });
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const fresh = initialRunState(plan, { runId: state.runId, createdAt: state.createdAt }).steps;
  const steps: Record<string, StepState> = {};
  for (const nodeId of plan.order) {
    const existing = state.steps[nodeId];
    const node = plan.nodes[nodeId];
    if (!existing || !node) {
      const pending = fresh[nodeId];
      if (pending) steps[nodeId] = pending;
      continue;
    }
    steps[nodeId] = completed(existing) ? existing : { ...existing, type: node.type };
  }
  const dropped = Object.keys(state.steps).filter((nodeId) => !plan.nodes[nodeId]);
  return { ok: true, state: { ...state, version: plan.version, steps }, dropped };
}

/** Every node reachable from `nodeId`, itself included. */
export function downstreamOf(plan: Plan, nodeId: string): Set<string> {
  const seen = new Set<string>([nodeId]);
  const queue = [nodeId];
  while (queue.length > 0) {
    for (const succ of plan.nodes[queue.shift() as string]?.succs ?? []) {
      if (seen.has(succ)) continue;
      seen.add(succ);
      queue.push(succ);
    }
  }
  return seen;
}

export type ReplayPlan =
  | { ok: true; taken: string[] }
  | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

/**
 * Which steps a replay from `fromNode` takes from the original instead of executing: every step
 * that completed there and is not `fromNode` or downstream of it. `fromNode` must have been able
 * to run: each of its predecessors completed, and it was not skipped. Only an ended run is replayed.
 */
export function planReplay(plan: Plan, original: RunState, fromNode: string): ReplayPlan {
  const node = plan.nodes[fromNode];
  if (!node) {
    return { ok: false, code: "run.node_not_found", message: `workflow ${plan.workflowId} has no node ${fromNode}` };
  }
  if (!terminalRunStatuses.includes(original.status)) {
    return {
      ok: false,
      code: "run.not_ended",
      message: `run is ${original.status}; cancel it or wait for it to end before replaying it`,
    };
  }
  const from = original.steps[fromNode];
  if (from && isGraphSkip(from)) {
    return {
      ok: false,
      code: "run.replay_not_ready",
      message: `${fromNode} was skipped in the original run; replay from a node that ran`,
    };
  }
  const incomplete = node.preds.filter((pred) => !completed(original.steps[pred]));
  if (incomplete.length > 0) {
    return {
      ok: false,
      code: "run.replay_not_ready",
      message: `${fromNode} cannot be replayed: ${incomplete.join(", ")} did not complete in the original run`,
      details: { incomplete },
    };
  }
  const downstream = downstreamOf(plan, fromNode);
  const taken = plan.order.filter((id) => !downstream.has(id) && completed(original.steps[id]));
  return { ok: true, taken };
}

/**
 * A replay's state before it starts: pending everywhere except the taken steps, which are settled
 * with the original's output and route (so edges out of them decide as they did there) and point
 * back at the original. They have no attempts here: nothing was executed.
 */
export function replayState(
  plan: Plan,
  identity: { runId: string; createdAt: number },
  original: RunState,
  replay: { fromNode: string; taken: readonly string[] },
): RunState {
  const state = initialRunState(plan, identity);
  const steps: Record<string, StepState> = { ...state.steps };
  for (const nodeId of replay.taken) {
    const source = original.steps[nodeId];
    const base = steps[nodeId];
    if (!source || !base) continue;
    steps[nodeId] = {
      ...base,
      status: source.status,
      ...(source.output ? { output: source.output } : {}),
      ...(source.route ? { route: source.route } : {}),
      replayedFrom: {
        runId: original.runId,
        ...(source.contextVersion !== undefined ? { contextVersion: source.contextVersion } : {}),
        ...(source.endedAt !== undefined ? { endedAt: source.endedAt } : {}),
      },
    };
  }
  return { ...state, steps, replayOf: { runId: original.runId, fromNode: replay.fromNode } };
}
