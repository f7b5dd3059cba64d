import { type ErrorData, errorData } from "../errors";
import type { JsonObject } from "../lib/json";
import type { Draft } from "./draft";
import type { Plan } from "./plan";

/**
 * The runtime side of the registration check (src/definition/write-conflicts.ts): a node may
 * not overwrite a key that a node running alongside it (not one of its ancestors) wrote. That
 * would be last-write-wins, decided by timing; the step fails instead and its patch is never
 * applied. Only definitions the registration check never saw can get here.
 */
export function writeConflict(draft: Draft, nodeId: string, output: JsonObject): ErrorData | undefined {
  const keys = Object.keys(output);
  if (keys.length === 0) return undefined;
  for (const otherId of parallelOf(draft.plan, nodeId)) {
    const other = draft.step(otherId);
    if (other.status !== "success" || !other.output) continue;
    const written = other.output;
    const key = keys.find((name) => Object.hasOwn(written, name));
    if (key === undefined) continue;
    return errorData(
      "context.write_conflict",
      `"${nodeId}" and "${other.nodeId}" ran side by side and both wrote "${key}" (context version ${other.contextVersion}); give one of them another key, or order them with an edge`,
      { details: { nodes: [other.nodeId, nodeId], key } },
    );
  }
  return undefined;
}

/**
 * Nodes that may run beside `nodeId`: neither its ancestors nor its descendants. Worked out once
 * per plan and node (plans are immutable), so a step of a sequential workflow checks nothing and
 * the check never grows with the number of steps behind it.
 */
const parallelCache = new WeakMap<Plan, Map<string, readonly string[]>>();

function parallelOf(plan: Plan, nodeId: string): readonly string[] {
  let perPlan = parallelCache.get(plan);
  if (!perPlan) {
    perPlan = new Map();
    parallelCache.set(plan, perPlan);
  }
  let parallel = perPlan.get(nodeId);
  if (!parallel) {
    const ancestors = walk(plan, nodeId, "preds");
    const descendants = walk(plan, nodeId, "succs");
    parallel = plan.order.filter((id) => id !== nodeId && !ancestors.has(id) && !descendants.has(id));
    perPlan.set(nodeId, parallel);
  }
  return parallel;
}

function walk(plan: Plan, from: string, direction: "preds" | "succs"): Set<string> {
  const seen = new Set<string>();
  const stack = [...(plan.nodes[from]?.[direction] ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(plan.nodes[id]?.[direction] ?? []));
  }
  return seen;
}
