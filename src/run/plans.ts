import { compilePlan } from "../definition/compile";
import { sensitivePolicyOf } from "../definition/sensitive-checks";
import { validateDefinition } from "../definition/validate";
import type { Plan } from "../engine/plan";
import { errorData, SignalboxError } from "../errors";
import { nodeSpec } from "../nodes/registry";
import type { SensitivePolicy } from "../security/sensitive";

export interface LoadedPlan {
  plan: Plan;
  configs: Readonly<Record<string, unknown>>;
  /** What the workflow marks sensitive; absent when it marks nothing. */
  sensitive?: SensitivePolicy;
}

// Versions are immutable, so a compiled plan can be shared by every run of the isolate.
const cache = new Map<string, LoadedPlan>();
const cacheLimit = 500;

export function loadPlan(workflowId: string, version: number, definition: unknown): LoadedPlan {
  const key = `${workflowId}@${version}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const result = validateDefinition(definition);
  if (!result.ok) {
    throw new SignalboxError(
      errorData("definition.invalid", `stored definition ${key} no longer validates`, { details: result.issues }),
    );
  }
  // The run's workflow id wins over the definition's: an inline body (map, loop) runs as `<workflow>/<node>`.
  const sensitive = sensitivePolicyOf(
    result.definition.sensitive,
    result.definition.nodes.map((node) => ({
      id: node.id,
      sensitive: node.sensitive,
      writes: nodeSpec(node.type)?.writes(result.configs[node.id]) ?? [],
    })),
  );
  const loaded: LoadedPlan = {
    plan: { ...compilePlan(result.definition, version), workflowId },
    configs: result.configs,
    ...(sensitive ? { sensitive } : {}),
  };
  if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value as string);
  cache.set(key, loaded);
  return loaded;
}
