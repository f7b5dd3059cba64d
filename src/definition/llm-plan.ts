import type { Plan, PlanNode } from "../engine/plan";
import { parseDuration } from "../lib/duration";
import type { NodeSpec } from "../nodes/types";
import type { NodeDefinition, WorkflowDefinition } from "./schema";

const defaultReviewExpiresMs = 7 * 86_400_000;

/** An llm node's part of the plan: its chain's length and who reviews it when it stops. */
export function llmNodePlan(
  node: NodeDefinition,
  spec: NodeSpec,
  workflowReviewers: readonly string[] | undefined,
): PlanNode["llm"] | undefined {
  if (!spec.models) return undefined;
  const parsed = spec.config.safeParse(node.config);
  if (!parsed.success) return undefined;
  const expires = node.retry?.escalationExpiresIn;
  return {
    models: spec.models(parsed.data),
    reviewers: node.retry?.escalateTo ?? workflowReviewers ?? [],
    reviewExpiresInMs: (expires === undefined ? undefined : parseDuration(expires)) ?? defaultReviewExpiresMs,
  };
}

export function llmPlan(definition: WorkflowDefinition): Plan["llm"] | undefined {
  const settings = definition.llm;
  if (!settings) return undefined;
  return {
    ...(settings.budget ? { budget: settings.budget } : {}),
    ...(settings.prices ? { prices: settings.prices } : {}),
  };
}
