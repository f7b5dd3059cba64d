import { z } from "zod";
import { priceTableSchema } from "../../definition/schema";
import { type ErrorData, errorData } from "../../errors";
import { providerLimitsSchema } from "../../limits/settings";
import type { PriceTable } from "../../llm/types";
import { providerName } from "../../nodes/llm-config";

/**
 * Which model providers this Worker can reach, read from its environment. A definition only
 * names a provider; base URLs come from vars and keys from Worker secrets, by name.
 *
 * - `LLM_PROVIDERS`: a JSON var, `{"<name>": {type, baseUrl?, apiKey?, binding?, model?, headers?, limits?}}`,
 *   where `apiKey` is the NAME of the secret holding the key.
 * - Shorthands, unless LLM_PROVIDERS defines the name: `default` from `LLM_BASE_URL` (an
 *   OpenAI-compatible endpoint; `LLM_MODEL`, and the key in the secret `LLM_API_KEY_SECRET`
 *   names, default `LLM_API_KEY`), `openai` from the `OPENAI_API_KEY` secret, `anthropic` from
 *   the `ANTHROPIC_API_KEY` secret, `workers-ai` from an `AI` binding.
 */

export const providerTypes = ["openai-compatible", "anthropic", "workers-ai"] as const;
export type ProviderType = (typeof providerTypes)[number];

const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "expected the NAME of a Worker secret");

const providerSchema = z.strictObject({
  type: z.enum(providerTypes),
  baseUrl: z.url().optional(),
  apiKey: secretName.optional(),
  binding: secretName.optional(),
  model: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Requests and tokens per minute and a circuit breaker, shared by every run (src/limits). */
  limits: providerLimitsSchema.optional(),
});
export type ProviderSettings = z.infer<typeof providerSchema>;

const providersSchema = z.record(providerName, providerSchema);

export interface ResolvedProvider {
  name: string;
  settings: ProviderSettings;
  model: string;
  /** The key itself: it goes to the provider library and nowhere else. */
  apiKey?: string;
  /** The secret's name, for messages. */
  apiKeySecret?: string;
}

type Vars = Record<string, unknown>;

function text(env: Vars, name: string): string | undefined {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function parseJsonVar(env: Vars, name: string): unknown {
  const value = env[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") return value;
  return JSON.parse(value);
}

/** The providers the environment defines, or why LLM_PROVIDERS could not be read. */
export function providerSettings(env: Vars): { providers: Record<string, ProviderSettings>; problem?: string } {
  const providers: Record<string, ProviderSettings> = {};
  const baseUrl = text(env, "LLM_BASE_URL");
  if (baseUrl) {
    const keyName = text(env, "LLM_API_KEY_SECRET") ?? (text(env, "LLM_API_KEY") ? "LLM_API_KEY" : undefined);
    const model = text(env, "LLM_MODEL");
    providers.default = {
      type: "openai-compatible",
      baseUrl,
      ...(keyName ? { apiKey: keyName } : {}),
      ...(model ? { model } : {}),
    };
  }
  if (text(env, "OPENAI_API_KEY")) {
    providers.openai = {
      type: "openai-compatible",
      baseUrl: text(env, "OPENAI_BASE_URL") ?? "https://api.openai.com/v1",
      apiKey: "OPENAI_API_KEY",
    };
  }
  if (text(env, "ANTHROPIC_API_KEY")) {
    const anthropicUrl = text(env, "ANTHROPIC_BASE_URL");
    providers.anthropic = {
      type: "anthropic",
      apiKey: "ANTHROPIC_API_KEY",
      ...(anthropicUrl ? { baseUrl: anthropicUrl } : {}),
    };
  }
  if (env.AI !== undefined) providers["workers-ai"] = { type: "workers-ai", binding: "AI" };
  let raw: unknown;
  try {
    raw = parseJsonVar(env, "LLM_PROVIDERS");
  } catch (thrown) {
    return { providers, problem: `LLM_PROVIDERS is not JSON: ${String(thrown)}` };
  }
  if (raw === undefined) return { providers };
  const parsed = providersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { providers, problem: `LLM_PROVIDERS: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}` };
  }
  return { providers: { ...providers, ...parsed.data } };
}

const defaultHint =
  "set LLM_BASE_URL to an OpenAI-compatible endpoint (a local server such as http://127.0.0.1:11434/v1, OpenAI, or a Cloudflare AI Gateway URL) and LLM_MODEL, in .dev.vars or with --var; a key goes in the secret LLM_API_KEY (or the secret LLM_API_KEY_SECRET names)";

function missingProvider(name: string): string {
  switch (name) {
    case "default":
      return `LLM provider "default" is not configured: ${defaultHint}`;
    case "openai":
      return `LLM provider "openai" is not configured: set the OPENAI_API_KEY secret (wrangler secret put OPENAI_API_KEY; .dev.vars locally)`;
    case "anthropic":
      return `LLM provider "anthropic" is not configured: set the ANTHROPIC_API_KEY secret (wrangler secret put ANTHROPIC_API_KEY; .dev.vars locally)`;
    case "workers-ai":
      return `LLM provider "workers-ai" is not configured: add an [ai] binding named AI to wrangler.toml (Workers AI needs a Cloudflare login, even under wrangler dev)`;
    default:
      return `LLM provider "${name}" is not configured: define it in the LLM_PROVIDERS var, e.g. {"${name}": {"type": "openai-compatible", "baseUrl": "http://127.0.0.1:8080/v1", "apiKey": "SECRET_NAME"}}`;
  }
}

function notConfigured(message: string): { ok: false; error: ErrorData } {
  return { ok: false, error: errorData("llm.not_configured", message) };
}

/** The provider and model a node's target means here, with its key, or an actionable error. */
export function resolveProvider(
  env: Vars,
  target: { provider: string; model?: string },
): { ok: true; provider: ResolvedProvider } | { ok: false; error: ErrorData } {
  const { providers, problem } = providerSettings(env);
  if (problem) return notConfigured(problem);
  const settings = providers[target.provider];
  if (!settings) return notConfigured(missingProvider(target.provider));
  const model = target.model ?? settings.model;
  if (!model) {
    const where = target.provider === "default" ? "LLM_MODEL" : `"model" in LLM_PROVIDERS.${target.provider}`;
    return notConfigured(`LLM provider "${target.provider}" has no default model: set the node's model, or ${where}`);
  }
  if (settings.type === "workers-ai") {
    const binding = settings.binding ?? "AI";
    if (env[binding] === undefined)
      return notConfigured(missingProvider("workers-ai").replace("AI to", `${binding} to`));
    return { ok: true, provider: { name: target.provider, settings, model } };
  }
  if (settings.type === "openai-compatible" && !settings.baseUrl) {
    return notConfigured(`LLM provider "${target.provider}" has no baseUrl`);
  }
  if (!settings.apiKey) {
    if (settings.type === "anthropic") {
      return notConfigured(`LLM provider "${target.provider}" names no apiKey secret: Anthropic needs one`);
    }
    return { ok: true, provider: { name: target.provider, settings, model } };
  }
  const apiKey = text(env, settings.apiKey);
  if (!apiKey) {
    return notConfigured(
      `the secret ${settings.apiKey} (the key for LLM provider "${target.provider}") is not set: wrangler secret put ${settings.apiKey} (.dev.vars locally)`,
    );
  }
  return { ok: true, provider: { name: target.provider, settings, model, apiKey, apiKeySecret: settings.apiKey } };
}

/** The price table of the LLM_PRICES var (a definition's `llm.prices` overrides it per key). */
export function envPrices(env: Vars): { prices: PriceTable; problem?: string } {
  try {
    const raw = parseJsonVar(env, "LLM_PRICES");
    if (raw === undefined) return { prices: {} };
    const parsed = priceTableSchema.safeParse(raw);
    if (parsed.success) return { prices: parsed.data };
    return { prices: {}, problem: `LLM_PRICES: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  } catch (thrown) {
    return { prices: {}, problem: `LLM_PRICES is not JSON: ${String(thrown)}` };
  }
}
