import { z } from "zod";
import { checkJsonSchema } from "../lib/json-schema-check";
import { duration, jsonSchema } from "../lib/schema-parts";
import { circuitOpenActions } from "./limits";

/** A provider's name: `default`, `openai`, `anthropic`, `workers-ai` or a key of LLM_PROVIDERS. */
export const providerName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "expected a provider name such as default, openai or anthropic");

const modelName = z.string().min(1).max(200);

/** A fallback: a model of the node's provider, or `{provider?, model?}`. */
const fallbackTarget = z.union([
  modelName,
  z.strictObject({ provider: providerName.optional(), model: modelName.optional() }),
]);

export const llmConfig = z
  .strictObject({
    provider: providerName.default("default"),
    /** Without one, the provider's default model (LLM_MODEL for the `default` provider). */
    model: modelName.optional(),
    /** Tried in order once the model's attempts run out. */
    fallback: z.array(fallbackTarget).max(5).default([]),
    /** `{{ expr }}` templates over the context. */
    system: z.string().max(100_000).optional(),
    prompt: z.string().min(1).max(100_000),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    /** Each call's limit (the node's own `timeout` bounds the whole attempt, repairs included). */
    timeout: duration.default("30s"),
    /** Text answers: the key the text goes to. Structured answers: the key the whole object goes to. */
    output: z.string().min(1).optional(),
    /** Structured output: the answer must be JSON that validates against this schema. */
    schema: jsonSchema.optional(),
    /** Structured output: context key -> property (dotted path) of the answer. */
    fields: z.record(z.string().min(1), z.string().min(1)).optional(),
    /** Calls that quote the validation errors back to the model before the attempt fails. */
    repairs: z.number().int().min(0).max(5).default(2),
    /** Below `threshold`, the step goes to review, or takes only the edge to `to`. */
    confidence: z
      .strictObject({ field: z.string().min(1), threshold: z.number(), to: z.string().min(1).optional() })
      .optional(),
    /** Reuse answers to the same request (provider, model, rendered prompt and parameters). */
    cache: z.boolean().default(false),
    /** When the provider's circuit is open: wait on the run's alarm (default), or fail at once with `circuit.open`. */
    onCircuitOpen: z.enum(circuitOpenActions).default("wait"),
  })
  .superRefine((config, context) => {
    const issue = (path: (string | number)[], message: string) => context.addIssue({ code: "custom", path, message });
    if (!config.schema) {
      if (!config.output) issue(["output"], "a text answer needs `output`, the key it is written to");
      if (config.fields) issue(["fields"], "`fields` needs a `schema` (structured output)");
      if (config.confidence) issue(["confidence"], "`confidence` needs a `schema` (structured output)");
      return;
    }
    if (!config.output && !config.fields) issue(["output"], "structured output needs `output` or `fields`");
    const problem = checkJsonSchema(config.schema);
    if (problem) issue(["schema"], `invalid JSON Schema: ${problem}`);
  });

export type LlmConfig = z.infer<typeof llmConfig>;

/** The node's model, then its fallbacks, each with its provider. */
export function modelChain(config: LlmConfig): { provider: string; model?: string }[] {
  const first = { provider: config.provider, ...(config.model ? { model: config.model } : {}) };
  const rest = config.fallback.map((entry) =>
    typeof entry === "string"
      ? { provider: config.provider, model: entry }
      : { provider: entry.provider ?? config.provider, ...(entry.model ? { model: entry.model } : {}) },
  );
  return [first, ...rest];
}
