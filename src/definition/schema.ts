import { z } from "zod";
import { isDuration } from "../lib/duration";

export const duration = z.string().refine(isDuration, {
  message: "expected a duration such as 500ms, 30s, 5m, 2h or 7d",
});

export const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "expected letters, digits, '-' or '_', starting with a letter (max 64)");

/** A JSON Schema document: checked for shape here, compiled when the definition is registered. */
export const jsonSchema = z.record(z.string(), z.unknown());

export const retryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  backoff: z.enum(["fixed", "exponential"]).optional(),
  initialDelay: duration.optional(),
  maxDelay: duration.optional(),
  /** true for ±50% jitter, or the fraction of the delay to randomize. */
  jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
  /** Error codes that are never retried, on top of the errors a node marks non-retryable. */
  nonRetryable: z.array(z.string()).optional(),
  escalateAfter: z.number().int().min(1).optional(),
});

const dedupSchema = z.strictObject({
  window: duration.optional(),
});

export const triggerSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manual"), dedup: dedupSchema.optional(), schema: jsonSchema.optional() }),
  z.strictObject({
    type: z.literal("webhook"),
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
  }),
]);

export const nodeSchema = z.strictObject({
  id: identifier,
  type: z.string().min(1),
  name: z.string().max(200).optional(),
  config: z.unknown().optional(),
  timeout: duration.optional(),
  retry: retryPolicySchema.optional(),
});

export const edgeSchema = z.strictObject({ from: z.string().min(1), to: z.string().min(1) });

export const definitionSchema = z.strictObject({
  id: identifier,
  name: z.string().min(1).max(200),
  description: z.string().max(2_000).optional(),
  triggers: z
    .array(triggerSchema)
    .max(20)
    .default([{ type: "manual" }]),
  nodes: z.array(nodeSchema).min(1, "a workflow needs at least one node").max(500),
  edges: z.array(edgeSchema).max(2_000).default([]),
});

export type RetryPolicyInput = z.infer<typeof retryPolicySchema>;
export type TriggerDefinition = z.infer<typeof triggerSchema>;
export type NodeDefinition = z.infer<typeof nodeSchema>;
export type EdgeDefinition = z.infer<typeof edgeSchema>;
export type WorkflowDefinition = z.infer<typeof definitionSchema>;

/** Context keys every run owns; no node may write them. */
export const reservedContextKeys = ["input", "trigger", "run"] as const;
