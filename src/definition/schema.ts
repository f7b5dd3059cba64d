import { z } from "zod";
import { parseDuration } from "../lib/duration";
import { duration, identifier, jsonSchema } from "../lib/schema-parts";
import type { NodeType } from "../nodes/registry";
import { maxCatchUpLimit, missedPolicies } from "./schedule-settings";

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
  /** Who reviews the step when it escalates; defaults to the workflow's `reviewers`. */
  escalateTo: z.array(z.email()).min(1).max(20).optional(),
  /** How long reviewers have before the escalated step fails (default 7d). */
  escalationExpiresIn: duration.optional(),
});

const dedupSchema = z.strictObject({
  window: duration.optional(),
});

/** JSONata over the trigger's envelope (a webhook's `{body, headers, query}`): the run's input. */
const inputMapping = z.string().min(1).max(10_000);

/** The name of a Worker secret (`wrangler secret put NAME`), never the secret itself. */
const secretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "expected the name of a Worker secret, such as GITHUB_WEBHOOK_SECRET");

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "expected an HTTP header name");

/** How a webhook proves where it came from; each scheme signs the raw body with the secret. */
export const webhookVerifySchema = z.discriminatedUnion("scheme", [
  z.strictObject({ scheme: z.literal("standard"), secret: secretName, tolerance: duration.optional() }),
  z.strictObject({ scheme: z.literal("github"), secret: secretName }),
  z.strictObject({ scheme: z.literal("stripe"), secret: secretName, tolerance: duration.optional() }),
  z.strictObject({ scheme: z.literal("slack"), secret: secretName, tolerance: duration.optional() }),
  z.strictObject({
    scheme: z.literal("hmac"),
    secret: secretName,
    header: headerName.optional(),
    encoding: z.enum(["hex", "base64"]).optional(),
    prefix: z.string().max(50).optional(),
    timestampHeader: headerName.optional(),
    idHeader: headerName.optional(),
    tolerance: duration.optional(),
  }),
]);

export const eventNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, "expected an event name: letters, digits and . _ : / - (max 200)");

export const r2Actions = [
  "PutObject",
  "CopyObject",
  "CompleteMultipartUpload",
  "DeleteObject",
  "LifecycleDeletion",
] as const;

/** An address an email trigger takes mail for: `name@domain`, or `*@domain` for any name there. */
export const emailAddressPattern = z
  .string()
  .max(254)
  .regex(
    /^(\*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/,
    "expected an email address such as invoices@example.com, or *@example.com for every address of the domain",
  );

/**
 * A message size: bytes, or a size string such as 512KiB or 10MiB, its unit in any case. The
 * cases are spelled out rather than left to the `i` flag, which the generated JSON Schema cannot
 * carry: editors would then refuse `10MiB`.
 */
const byteSize = z.union([
  z.number().int().min(1),
  z.string().regex(/^\d+(?:\.\d+)?\s*(?:[bB]|[kKmMgG][iI]?[bB])?$/, "expected a size such as 512KiB or 10MiB"),
]);

export const triggerSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("manual"),
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
    input: inputMapping.optional(),
  }),
  z.strictObject({
    type: z.literal("webhook"),
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
    verify: webhookVerifySchema.optional(),
    input: inputMapping.optional(),
  }),
  z.strictObject({
    type: z.literal("schedule"),
    /** Cloudflare's cron syntax (weekday 1 = Sunday), checked when the definition is registered. */
    cron: z.string().min(1).max(200),
    /** IANA time zone the cron's fields are read in; UTC by default. */
    timezone: z.string().min(1).max(100).optional(),
    missed: z.enum(missedPolicies).optional(),
    catchUpLimit: z.number().int().min(1).max(maxCatchUpLimit).optional(),
    schema: jsonSchema.optional(),
    input: inputMapping.optional(),
  }),
  z.strictObject({
    type: z.literal("event"),
    name: eventNameSchema,
    /** JSONata over `{body, event}`; the event starts a run only when it is truthy. */
    filter: z.string().min(1).max(10_000).optional(),
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
    input: inputMapping.optional(),
  }),
  z.strictObject({
    type: z.literal("r2"),
    /** Defaults to the FILES bucket. */
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "expected an R2 bucket name")
      .optional(),
    prefix: z.string().max(1024).optional(),
    suffix: z.string().max(1024).optional(),
    /** R2 notification actions that start a run; default the object-create ones. */
    actions: z.array(z.enum(r2Actions)).min(1).optional(),
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
    input: inputMapping.optional(),
  }),
  z.strictObject({
    type: z.literal("email"),
    /** The recipient the message was delivered to (the envelope's RCPT TO), matched without case. */
    address: emailAddressPattern,
    /** Envelope senders whose mail starts runs (exact or `*@domain`); everyone when absent. */
    allowFrom: z.array(emailAddressPattern).min(1).max(100).optional(),
    /** The whole raw message (default 25MiB, Email Routing's own limit). */
    maxBytes: byteSize.optional(),
    /** Each attachment's decoded size (default 10MiB). */
    maxAttachmentBytes: byteSize.optional(),
    /** Attachments per message (default 10). */
    maxAttachments: z.number().int().min(0).max(100).optional(),
    /** Redeliveries of one Message-ID start one run within the window (default 7d). */
    dedup: dedupSchema.optional(),
    schema: jsonSchema.optional(),
    input: inputMapping.optional(),
  }),
]);

/** Trigger types a workflow may declare more than once (one subscription each). */
export const repeatableTriggerTypes: ReadonlySet<string> = new Set(["event", "r2", "email"]);

export const nodeSchema = z.strictObject({
  id: identifier,
  type: z.string().min(1),
  name: z.string().max(200).optional(),
  config: z.unknown().optional(),
  /** Every context key this node writes is sealed at rest and redacted in answers (docs/definitions.md#sensitive). */
  sensitive: z.literal("output").optional(),
  timeout: duration.optional(),
  retry: retryPolicySchema.optional(),
  /**
   * What undoes the node's effect when the run rolls back: the node type's request
   * (`compensation` of its spec) plus `timeout` and `retry` of its own.
   */
  compensate: z.record(z.string(), z.unknown()).optional(),
});

/** The parts of a `compensate` every node type shares; the rest is the node type's. */
export const compensateCommonSchema = z.strictObject({
  timeout: duration.optional(),
  retry: retryPolicySchema.omit({ escalateAfter: true, escalateTo: true, escalationExpiresIn: true }).optional(),
});
export const compensateCommonKeys = ["timeout", "retry"] as const;

/** What a run does when it fails or is cancelled, beyond ending: `compensate` rolls back its completed steps. */
export const endActionSchema = z.enum(["compensate"]);

export const edgeSchema = z.strictObject({ from: z.string().min(1), to: z.string().min(1) });

/** USD per million tokens, keyed by `provider/model`, `model` or `*` (also the LLM_PRICES var). */
export const priceTableSchema = z.record(
  z.string().min(1).max(300),
  z.strictObject({ input: z.number().min(0), output: z.number().min(0) }),
);

/** The workflow's LLM settings: a run budget (a call that would cross it goes to review) and prices. */
export const llmSettingsSchema = z.strictObject({
  budget: z
    .strictObject({ tokens: z.number().int().min(1).optional(), costUsd: z.number().positive().optional() })
    .optional(),
  prices: priceTableSchema.optional(),
});

/**
 * A test case a definition carries: a dry run's input and mocks, and what must hold when it
 * ends (`POST /api/workflows/:id/test` with `{"tests": true}` runs them all).
 */
export const testCaseSchema = z.strictObject({
  name: z.string().min(1).max(200),
  input: z.unknown().optional(),
  /** Per node id: a mock or a list of them (src/run/dry-run-mocks.ts). */
  mocks: z.record(z.string(), z.unknown()).optional(),
  http: z.array(z.unknown()).max(200).optional(),
  /** Answers for llm nodes' model calls (src/run/dry-run-mocks.ts). */
  llm: z.array(z.unknown()).max(200).optional(),
  expect: z
    .strictObject({
      status: z.string().optional(),
      /** Context keys and the values they must hold (objects match as subsets). */
      context: z.record(z.string(), z.unknown()).optional(),
      /** Node ids and the status each step must end in. */
      steps: z.record(z.string(), z.string()).optional(),
      /** JSONata expressions over the final context, each of which must be truthy. */
      assert: z.array(z.string().min(1).max(10_000)).max(50).optional(),
    })
    .optional(),
});

/** A positive duration (`0s` would divide by zero in a bucket or never let a key go quiet). */
const period = z.string().refine((text) => (parseDuration(text) ?? 0) > 0, {
  message: "expected a duration over 0, such as 500ms, 30s, 5m, 2h or 7d",
});

/** JSONata over the run's input: the value runs are grouped by (missing or failing: the key `_`). */
const flowKey = z.string().min(1).max(2_000);

const flowLimit = z.number().int().min(1).max(100_000);

/** How runs of a workflow start (docs/definitions.md#flow-control): src/flow holds the gates. */
export const flowSchema = z.strictObject({
  /** At most `limit` runs (per key value) running at once; more are queued. At most two levels. */
  concurrency: z
    .array(z.strictObject({ limit: flowLimit, key: flowKey.optional(), holdWhileWaiting: z.boolean().optional() }))
    .min(1)
    .max(2)
    .optional(),
  /** Starts spread out: `limit` per `period` (and up to `burst` at once); extra runs are queued. */
  throttle: z
    .strictObject({ limit: flowLimit, period, burst: flowLimit.optional(), key: flowKey.optional() })
    .optional(),
  /** Triggers over `limit` per `period` start nothing and answer `rate_limited`. */
  rateLimit: z.strictObject({ limit: flowLimit, period, key: flowKey.optional() }).optional(),
  /** Triggers within `period` of each other start one run with the last input. */
  debounce: z.strictObject({ period, key: flowKey.optional(), maxWait: period.optional() }).optional(),
  /** At most one active run per key: a new trigger is skipped, or cancels the active run. */
  singleton: z.strictObject({ key: flowKey.optional(), mode: z.enum(["skip", "cancel"]) }).optional(),
  /** JSONata number over the input: among queued runs the higher starts first (default 0). */
  priority: flowKey.optional(),
});

const contextKeyName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/, "expected a top-level context key");
const inputFieldPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+){0,19}$/, "expected a dotted path into the input, such as card.number");

export const sensitiveSchema = z.strictObject({
  /** Top-level context keys (written by nodes) whose values are sensitive. */
  context: z.array(contextKeyName).min(1).max(100).optional(),
  /** Fields of the run's input, as dotted paths (`card.number`); through an array, each item's field. */
  input: z.array(inputFieldPath).min(1).max(100).optional(),
});

export const definitionSchema = z.strictObject({
  /** The JSON Schema editors check the file against (schema/workflow.json); not part of the definition, never stored. */
  $schema: z.string().max(2_000).optional(),
  id: identifier,
  name: z.string().min(1).max(200),
  description: z.string().max(2_000).optional(),
  triggers: z
    .array(triggerSchema)
    .max(20)
    .default([{ type: "manual" }]),
  nodes: z.array(nodeSchema).min(1, "a workflow needs at least one node").max(500),
  edges: z.array(edgeSchema).max(2_000).default([]),
  /** Default reviewers for escalations (`retry.escalateAfter`) of every node. */
  reviewers: z.array(z.email()).min(1).max(20).optional(),
  /** LLM steps: the run's budget and the price table. */
  llm: llmSettingsSchema.optional(),
  tests: z.array(testCaseSchema).max(50).optional(),
  /**
   * What a run returns to a parent (map, loop, subworkflow) and shows as its report's `output`:
   * JSONata over the final context. Without it, the final context minus input, trigger and run.
   */
  output: z.string().min(1).max(10_000).optional(),
  /**
   * How long an ended run is kept, by how it ended, before the watchdog deletes it; unset
   * statuses take the RETENTION_* vars (src/run/retention.ts, docs/security.md#retention).
   */
  retention: z
    .strictObject({ success: duration.optional(), failed: duration.optional(), cancelled: duration.optional() })
    .optional(),
  /** Flow control: concurrency, throttle, rate limit, debounce, singleton, priority. */
  flow: flowSchema.optional(),
  /**
   * Values sealed at rest (AES-256-GCM under DATA_KEYS) and redacted in every answer: whole
   * context keys some node writes, and fields of the run's input by dotted path.
   */
  sensitive: sensitiveSchema.optional(),
  /** `compensate`: a failed run undoes its completed steps' effects before it ends (their `compensate`). */
  onFailure: endActionSchema.optional(),
  /** `compensate`: a cancelled run undoes its completed steps' effects before it ends. */
  onCancel: endActionSchema.optional(),
});

export type RetryPolicyInput = z.infer<typeof retryPolicySchema>;
export type TriggerDefinition = z.infer<typeof triggerSchema>;
export type WebhookVerify = z.infer<typeof webhookVerifySchema>;
/** A node as parsed, before its type is checked against the registry (src/definition/validate.ts). */
export type RawNodeDefinition = z.infer<typeof nodeSchema>;
/** A node of a valid definition: its type is one the registry has a spec for. */
export type NodeDefinition = Omit<RawNodeDefinition, "type"> & { type: NodeType };
export type EdgeDefinition = z.infer<typeof edgeSchema>;
/** A valid definition, as validateDefinition returns it and the store keeps it. */
export type WorkflowDefinition = Omit<z.infer<typeof definitionSchema>, "nodes"> & { nodes: NodeDefinition[] };
export type TestCase = z.infer<typeof testCaseSchema>;
export type FlowDefinition = z.infer<typeof flowSchema>;
export type SensitiveDefinition = z.infer<typeof sensitiveSchema>;

/** Context keys every run owns; no node may write them. */
export const reservedContextKeys = ["input", "trigger", "run"] as const;
