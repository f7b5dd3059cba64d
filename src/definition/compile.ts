import type { Plan, PlanNode, RetryPolicy } from "../engine/plan";
import { parseDuration } from "../lib/duration";
import { nodeSpec } from "../nodes/registry";
import type { NodeSpec } from "../nodes/types";
import { splitCompensate } from "./compensate-checks";
import { topologicalOrder } from "./graph";
import { llmNodePlan, llmPlan } from "./llm-plan";
import { compensateCommonSchema, type NodeDefinition, type RetryPolicyInput, type WorkflowDefinition } from "./schema";

export { topologicalOrder } from "./graph";

const defaultInitialDelayMs = 1_000;
const defaultMaxDelayMs = 5 * 60_000;
/** `jitter: true` randomizes half of each delay. */
const defaultJitter = 0.5;
/** How long reviewers of an escalated step have before it fails. */
const defaultEscalationExpiresMs = 7 * 86_400_000;

/**
 * Derives the engine's plan from a definition that `validateDefinition` accepted. A
 * violation here means validation let something through, so it throws rather than
 * reporting an issue.
 */
export function compilePlan(definition: WorkflowDefinition, version: number): Plan {
  const ids = definition.nodes.map((node) => node.id);
  const order = topologicalOrder(ids, definition.edges);
  if (!order) throw new Error(`compilePlan: workflow "${definition.id}" has a cycle; validate it first`);
  const nodes: Record<string, PlanNode> = {};
  for (const node of definition.nodes) {
    const spec = nodeSpec(node.type);
    if (!spec) throw new Error(`compilePlan: node "${node.id}" has unknown type "${node.type}"`);
    nodes[node.id] = {
      id: node.id,
      type: node.type,
      kind: spec.kind,
      preds: definition.edges.filter((edge) => edge.to === node.id).map((edge) => edge.from),
      succs: definition.edges.filter((edge) => edge.from === node.id).map((edge) => edge.to),
      timeoutMs: timeoutMs(node, spec),
      retry: retryPolicy(node.retry, spec, definition.reviewers),
      routes: Boolean(spec.targets) || hasTimeoutPath(node, spec),
    };
    const llm = llmNodePlan(node, spec, definition.reviewers);
    if (llm) nodes[node.id] = { ...(nodes[node.id] as PlanNode), llm };
    const compensate = compensatePlan(node, spec);
    if (compensate) nodes[node.id] = { ...(nodes[node.id] as PlanNode), compensate };
  }
  const llm = llmPlan(definition);
  const compensateOn =
    definition.onFailure === "compensate" || definition.onCancel === "compensate"
      ? { failure: definition.onFailure === "compensate", cancel: definition.onCancel === "compensate" }
      : undefined;
  return {
    workflowId: definition.id,
    version,
    order,
    nodes,
    ...(llm ? { llm } : {}),
    ...(compensateOn ? { compensateOn } : {}),
  };
}

function compensatePlan(node: NodeDefinition, spec: NodeSpec): PlanNode["compensate"] {
  if (node.compensate === undefined || !spec.compensation) return undefined;
  const { common, request } = splitCompensate(node.compensate);
  const shared = compensateCommonSchema.parse(common);
  return {
    timeoutMs:
      shared.timeout === undefined
        ? spec.defaultTimeoutMs
        : requireDuration(shared.timeout, `node "${node.id}" compensate timeout`),
    retry: retryPolicy(shared.retry, spec),
    config: spec.compensation.config.parse(request),
  };
}

function timeoutMs(node: NodeDefinition, spec: NodeSpec): number {
  if (node.timeout === undefined) return spec.defaultTimeoutMs;
  return requireDuration(node.timeout, `node "${node.id}" timeout`);
}

/** A node with a timeout path (wait for an event) routes: the event and the timeout take different edges. */
function hasTimeoutPath(node: NodeDefinition, spec: NodeSpec): boolean {
  if (!spec.timeoutTarget) return false;
  const parsed = spec.config.safeParse(node.config);
  return parsed.success && spec.timeoutTarget(parsed.data) !== undefined;
}

export function retryPolicy(
  input: RetryPolicyInput | undefined,
  spec: NodeSpec,
  workflowReviewers?: readonly string[],
): RetryPolicy {
  const jitter = input?.jitter;
  const reviewers = input?.escalateTo ?? workflowReviewers ?? [];
  const escalation =
    input?.escalateAfter === undefined
      ? undefined
      : {
          after: input.escalateAfter,
          reviewers,
          expiresInMs:
            input.escalationExpiresIn === undefined
              ? defaultEscalationExpiresMs
              : requireDuration(input.escalationExpiresIn, "escalationExpiresIn"),
        };
  return {
    ...(escalation ? { escalation } : {}),
    maxAttempts: input?.maxAttempts ?? spec.defaultMaxAttempts,
    backoff: input?.backoff ?? "exponential",
    initialDelayMs:
      input?.initialDelay === undefined ? defaultInitialDelayMs : requireDuration(input.initialDelay, "initialDelay"),
    maxDelayMs: input?.maxDelay === undefined ? defaultMaxDelayMs : requireDuration(input.maxDelay, "maxDelay"),
    jitter: jitter === undefined || jitter === false ? 0 : jitter === true ? defaultJitter : jitter,
    nonRetryable: input?.nonRetryable ?? [],
  };
}

function requireDuration(text: string, what: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`compilePlan: ${what} ${JSON.stringify(text)} is not a duration`);
  return ms;
}
