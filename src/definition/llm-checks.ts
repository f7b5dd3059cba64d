import type { ErrorCode } from "../errors";
import type { RawNodeDefinition } from "./schema";

type Add = (code: ErrorCode, path: (string | number)[], message: string) => void;

/**
 * An llm node whose low-confidence answers go to review (a `confidence` without `to`) needs
 * someone to review them: the node's `retry.escalateTo` or the workflow's `reviewers`.
 */
export function checkLlmReviews(nodes: (RawNodeDefinition | undefined)[], reviewers: unknown, add: Add): void {
  const hasDefault = Array.isArray(reviewers) && reviewers.length > 0;
  for (const [index, node] of nodes.entries()) {
    if (node?.type !== "llm" || hasDefault || node.retry?.escalateTo) continue;
    const config = node.config as { confidence?: { to?: unknown } } | undefined;
    if (!config?.confidence || typeof config.confidence !== "object" || config.confidence.to !== undefined) continue;
    add(
      "definition.invalid",
      ["nodes", index, "config", "confidence"],
      `node "${node.id}" sends low-confidence answers to review but names no reviewers: set retry.escalateTo, the workflow's reviewers, or confidence.to`,
    );
  }
}
