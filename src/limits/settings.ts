import { z } from "zod";
import { parseDuration } from "../lib/duration";
import { duration } from "../lib/schema-parts";
import type { LimitConfig } from "./types";

/**
 * Where limits come from: the `limits` of a provider in LLM_PROVIDERS, and the LIMITS var, a
 * JSON object whose keys are limit names:
 * - a plain name (`pager`), which an http node names in its `limit`;
 * - `http:<host>` (`http:api.example.com`, `http:127.0.0.1:8080`), which holds every http call
 *   to that host whose node names no `limit`;
 * - `llm:<provider>`, for providers that LLM_PROVIDERS does not define (`default`, `openai`, ...).
 * Each limit is one LimitObject, named as above (a provider's is `llm:<provider>`).
 */

export const circuitSchema = z.strictObject({
  /** The share of failed calls (timeouts, 5xx, connection errors) in the window that opens the circuit. */
  failureRate: z.number().gt(0).max(1).default(0.5),
  /** Fewer calls than this in the window never open it, however many failed. */
  minimumCalls: z.number().int().min(1).max(100_000).default(5),
  window: duration.default("60s"),
  /** How long an open circuit stays open before one probe call goes through. */
  coolDown: duration.default("30s"),
});

const requestsPerMinute = z.number().gt(0).max(1_000_000);

/** A provider's limits, in LLM_PROVIDERS (and an `llm:` entry of LIMITS). */
export const providerLimitsSchema = z
  .strictObject({
    requestsPerMinute: requestsPerMinute.optional(),
    tokensPerMinute: z.number().int().min(1).max(1_000_000_000).optional(),
    circuit: circuitSchema.optional(),
  })
  .refine((value) => Object.keys(value).length > 0, "set requestsPerMinute, tokensPerMinute or circuit");

/** An http limit (a plain name or `http:<host>`): tokens mean nothing to it. */
const httpLimitSchema = z
  .strictObject({ requestsPerMinute: requestsPerMinute.optional(), circuit: circuitSchema.optional() })
  .refine((value) => Object.keys(value).length > 0, "set requestsPerMinute or circuit");

export const limitName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, "expected a limit name: letters, digits, '.', '-' or '_' (max 64)");

const hostPattern = /^http:[A-Za-z0-9.-]+(:\d{1,5})?$/;
const llmPattern = /^llm:[A-Za-z][A-Za-z0-9_-]{0,63}$/;

type ProviderLimits = z.infer<typeof providerLimitsSchema>;

export interface LimitSettings {
  /** Every configured limit by its object's name. */
  limits: ReadonlyMap<string, LimitConfig>;
  /** Why LIMITS (or a provider's `limits`) could not be read; while set, limited steps fail with `limit.config_invalid`. */
  problem?: string;
}

function toConfig(raw: ProviderLimits): LimitConfig {
  const config: LimitConfig = {};
  if (raw.requestsPerMinute !== undefined) config.requestsPerMinute = raw.requestsPerMinute;
  if (raw.tokensPerMinute !== undefined) config.tokensPerMinute = raw.tokensPerMinute;
  if (raw.circuit) {
    config.circuit = {
      failureRate: raw.circuit.failureRate,
      minimumCalls: raw.circuit.minimumCalls,
      windowMs: parseDuration(raw.circuit.window) ?? 60_000,
      coolDownMs: parseDuration(raw.circuit.coolDown) ?? 30_000,
    };
  }
  return config;
}

function issueText(prefix: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.length ? `.${issue.path.join(".")}` : "";
  return `${prefix}${path}: ${issue?.message ?? "invalid"}`;
}

function jsonVar(value: unknown, name: string): { value?: unknown; problem?: string } {
  if (value === undefined || value === null || value === "") return {};
  if (typeof value !== "string") return { value };
  try {
    return { value: JSON.parse(value) };
  } catch (thrown) {
    return { problem: `${name} is not JSON: ${String(thrown)}` };
  }
}

/** Reads the limits out of LLM_PROVIDERS and LIMITS (both optional). */
export function parseLimitSettings(vars: { LIMITS?: unknown; LLM_PROVIDERS?: unknown }): LimitSettings {
  const limits = new Map<string, LimitConfig>();
  const problems: string[] = [];
  const providers = jsonVar(vars.LLM_PROVIDERS, "LLM_PROVIDERS");
  // An unreadable LLM_PROVIDERS is reported by the LLM port itself (llm.not_configured).
  if (providers.value && typeof providers.value === "object" && !Array.isArray(providers.value)) {
    for (const [provider, entry] of Object.entries(providers.value as Record<string, unknown>)) {
      const raw = entry && typeof entry === "object" ? (entry as { limits?: unknown }).limits : undefined;
      if (raw === undefined) continue;
      const parsed = providerLimitsSchema.safeParse(raw);
      if (parsed.success) limits.set(`llm:${provider}`, toConfig(parsed.data));
      else problems.push(issueText(`LLM_PROVIDERS.${provider}.limits`, parsed.error));
    }
  }
  const own = jsonVar(vars.LIMITS, "LIMITS");
  if (own.problem) problems.push(own.problem);
  if (own.value !== undefined) {
    if (typeof own.value !== "object" || own.value === null || Array.isArray(own.value)) {
      problems.push("LIMITS: expected an object of limits by name");
    } else {
      for (const [name, entry] of Object.entries(own.value as Record<string, unknown>)) {
        const problem = readEntry(limits, name, entry);
        if (problem) problems.push(problem);
      }
    }
  }
  return problems.length > 0 ? { limits, problem: problems.join("; ") } : { limits };
}

function readEntry(limits: Map<string, LimitConfig>, name: string, entry: unknown): string | undefined {
  if (name.startsWith("llm:")) {
    if (!llmPattern.test(name)) return `LIMITS.${name}: expected llm:<provider name>`;
    // LLM_PROVIDERS' own limits for the provider come first.
    if (limits.has(name)) return undefined;
    const parsed = providerLimitsSchema.safeParse(entry);
    if (!parsed.success) return issueText(`LIMITS.${name}`, parsed.error);
    limits.set(name, toConfig(parsed.data));
    return undefined;
  }
  if (name.startsWith("http:")) {
    if (!hostPattern.test(name)) return `LIMITS.${name}: expected http:<host> or http:<host>:<port>`;
  } else {
    const named = limitName.safeParse(name);
    if (!named.success) return issueText(`LIMITS.${name}`, named.error);
  }
  const parsed = httpLimitSchema.safeParse(entry);
  if (!parsed.success) return issueText(`LIMITS.${name}`, parsed.error);
  limits.set(name.startsWith("http:") ? name.toLowerCase() : name, toConfig(parsed.data));
  return undefined;
}

let cached: { limitsVar: unknown; providersVar: unknown; settings: LimitSettings } | undefined;

/**
 * The settings of this isolate's environment, parsed once per distinct pair of vars: every
 * llm and http attempt asks, and one with nothing configured must cost next to nothing.
 */
export function limitSettings(vars: { LIMITS?: unknown; LLM_PROVIDERS?: unknown }): LimitSettings {
  if (cached && cached.limitsVar === vars.LIMITS && cached.providersVar === vars.LLM_PROVIDERS) return cached.settings;
  const settings = parseLimitSettings(vars);
  cached = { limitsVar: vars.LIMITS, providersVar: vars.LLM_PROVIDERS, settings };
  return settings;
}

/** The limit an llm call to `provider` goes through, if one is configured. */
export function providerLimitName(provider: string): string {
  return `llm:${provider}`;
}

/** The limit of an http call: the node's named one, else its host's (lower-cased, with the port). */
export function httpLimitName(url: URL, named: string | undefined): string {
  return named ?? `http:${url.host.toLowerCase()}`;
}
