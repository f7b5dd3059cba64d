import type { LlmBudget, PriceTable } from "../llm/types";

/**
 * The executable shape of one workflow version, derived once from its definition: the
 * engine reads only this, never the raw definition or a node's config.
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: "fixed" | "exponential";
  initialDelayMs: number;
  maxDelayMs: number;
  /** Fraction of each delay that is randomized (0 = none). */
  jitter: number;
  nonRetryable: readonly string[];
  /** Hand the step to people instead of failing it: after `after` failed attempts, or when retries run out. */
  escalation?: { after: number; reviewers: readonly string[]; expiresInMs: number };
}

export interface PlanNode {
  id: string;
  type: string;
  kind: "pure" | "io";
  preds: readonly string[];
  succs: readonly string[];
  timeoutMs: number;
  retry: RetryPolicy;
  /** For nodes that route (branch): the successors they may choose. */
  routes: boolean;
  /** llm nodes: how many models to fall back through, and who reviews the step when it stops. */
  llm?: { models: number; reviewers: readonly string[]; reviewExpiresInMs: number };
  /**
   * What undoes the step when the run rolls back (src/engine/compensation.ts): its own timeout
   * and retry policy, and the node type's parsed request, which only the shell reads.
   */
  compensate?: { timeoutMs: number; retry: RetryPolicy; config: unknown };
}

export interface Plan {
  workflowId: string;
  version: number;
  /** Node ids in topological order; ties keep definition order. */
  order: readonly string[];
  nodes: Readonly<Record<string, PlanNode>>;
  /** The workflow's LLM budget and prices (`llm` in the definition). */
  llm?: { budget?: LlmBudget | undefined; prices?: PriceTable | undefined };
  /** When the run compensates its completed steps instead of just ending (`onFailure`, `onCancel`). */
  compensateOn?: { failure: boolean; cancel: boolean };
}
