import type { ErrorData } from "../errors";

/**
 * The shapes an LLM step shares between its node, the pure engine and the run shell: the
 * port a provider sits behind, what one call costs, and what a step and a run have spent.
 */

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** What a step or a run has spent. Cached answers cost nothing and are counted apart. */
export interface UsageTotals extends TokenUsage {
  calls: number;
  cachedCalls: number;
  costUsd: number;
  /** Calls whose model has no price: their tokens count, their cost is unknown. */
  unpricedCalls: number;
}

/** USD per million tokens, keyed by `provider/model`, `model` or `*`. */
export interface ModelPrice {
  input: number;
  output: number;
}
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** A run's spending limit; the step asks reviewers before a call that could cross it. */
export interface LlmBudget {
  tokens?: number | undefined;
  costUsd?: number | undefined;
}

export interface LlmMessage {
  role: "user" | "assistant";
  content: string;
}

export interface LlmRequest {
  /** The provider's name (`default`, `openai`, a key of LLM_PROVIDERS) and the resolved model. */
  provider: string;
  model: string;
  system?: string;
  messages: LlmMessage[];
  temperature?: number;
  maxTokens?: number;
  /** This call's own limit; past it the call is aborted and counts as `llm.timeout`. */
  timeoutMs: number;
  signal: AbortSignal;
}

export type LlmResponse =
  | { ok: true; text: string; usage: TokenUsage; finishReason: string; latencyMs: number }
  | { ok: false; error: ErrorData; latencyMs: number };

/** One embedding call: a batch of texts to one model. */
export interface EmbedRequest {
  provider: string;
  model: string;
  values: string[];
  /** Ask the model for vectors of this length (models that support it). */
  dimensions?: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export type EmbedResponse =
  /** One vector per value, in order; embeddings use input tokens only. */
  | { ok: true; vectors: number[][]; usage: TokenUsage; latencyMs: number }
  | { ok: false; error: ErrorData; latencyMs: number };

/** What the replay cache keeps of an answer. */
export interface CachedAnswer {
  text: string;
  usage: TokenUsage;
  finishReason: string;
}

export type ResolvedTarget = { ok: true; provider: string; model: string } | { ok: false; error: ErrorData };

/**
 * Providers, as an llm node sees them. The shell's implementation reads provider settings and
 * secrets from the environment; nothing it returns carries a key.
 */
export interface LlmPort {
  /** Which provider and model a node's `{provider, model?}` means here, or why there is none. */
  resolve(target: { provider: string; model?: string }): ResolvedTarget;
  generate(request: LlmRequest): Promise<LlmResponse>;
  /** Embedding calls (embed nodes); absent where the runtime has none. */
  embed?(request: EmbedRequest): Promise<EmbedResponse>;
  /** The replay cache (opt-in per node), keyed by a hash of the request. */
  cacheGet?(key: string): Promise<CachedAnswer | undefined>;
  cachePut?(key: string, answer: CachedAnswer, meta: { provider: string; model: string }): Promise<void>;
}

export const llmCallOutcomes = [
  "ok",
  "low_confidence",
  "invalid_json",
  "schema_invalid",
  "timeout",
  "rate_limited",
  "provider_error",
  "rejected",
] as const;
export type LlmCallOutcome = (typeof llmCallOutcomes)[number];

/** One call to a model, as the report shows it. */
export interface LlmCallRecord {
  attempt: number;
  /** 1 for the first call of an attempt; repairs (llm) or further batches (embed) follow. */
  call: number;
  purpose: "request" | "repair" | "embed";
  provider: string;
  model: string;
  startedAt: number;
  latencyMs: number;
  outcome: LlmCallOutcome;
  finishReason: string | null;
  usage: TokenUsage;
  /** null when the model has no price. */
  costUsd: number | null;
  cached: boolean;
  error?: { code: string; message: string };
}

/** What an llm node's attempt reports next to its outcome. */
export interface LlmAttemptReport {
  calls: LlmCallRecord[];
}

/** An llm step's own record: which model of its chain it is on, and every call so far. */
export interface LlmStepState {
  modelIndex: number;
  calls: LlmCallRecord[];
  usage: UsageTotals;
}

/** What the shell tells an llm node's attempt besides the context. */
export interface LlmAttemptContext {
  /** Which entry of the node's model chain (model, then fallbacks) this attempt uses. */
  modelIndex: number;
  /** The run's spend so far, for the budget. */
  run: UsageTotals;
  budget?: LlmBudget;
  prices: PriceTable;
  /** A reviewer let this step go on past the budget. */
  budgetWaived: boolean;
  /** A reviewer asked for a new answer: the replay cache is not read. */
  fresh: boolean;
}
