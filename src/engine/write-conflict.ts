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
  for (const other of draft.allSteps()) {
    if (other.nodeId === nodeId || other.status !== "success" || !other.output) continue;
    const written = other.output;
    const key = keys.find((name) => Object.hasOwn(written, name));
    if (key === undefined || isAncestor(draft.plan, other.nodeId, nodeId)) continue;
    return errorData(
      "context.write_conflict",
      `"${nodeId}" and "${other.nodeId}" ran side by side and both wrote "${key}" (context version ${other.contextVersion}); give one of them another key, or order them with an edge`,
      { details: { nodes: [other.nodeId, nodeId], key } },
    );
  }
  return undefined;
}

function isAncestor(plan: Plan, candidate: string, of: string): boolean {
  const seen = new Set<string>();
  const stack = [...(plan.nodes[of]?.preds ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === candidate) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(plan.nodes[id]?.preds ?? []));
  }
  return false;
}
