/**
 * Provider limits and circuit breakers, as llm and http nodes see them: a port that says whether
 * a call may go now, and takes its outcome afterwards. The shared state lives in one
 * LimitObject per limit (src/limits/limit-object.ts); nothing here touches a binding.
 */

export interface CircuitConfig {
  /** The share of failed calls in the window that opens the circuit (0 < rate <= 1). */
  failureRate: number;
  /** Fewer calls than this in the window never open it. */
  minimumCalls: number;
  windowMs: number;
  /** How long it stays open before one probe call goes through. */
  coolDownMs: number;
}

/** One limit: a request rate, a token rate (llm), a circuit breaker; any of them. */
export interface LimitConfig {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  circuit?: CircuitConfig;
}

export type CircuitStatus = "closed" | "open" | "half-open";

/** Why a call must wait: its turn under the rates, a provider's Retry-After, or an open circuit. */
export type DeferReason = "rate" | "retry-after" | "circuit";

/** A call that wants to go. `key` names the attempt (its idempotency key): asking again is safe. */
export interface TakeRequest {
  key: string;
  /** Tokens the call may use (llm): counted now, corrected when the call reports what it used. */
  tokens?: number;
  /** How long the call may take: a probe that does not report within it is replaced. */
  timeoutMs: number;
  /** Counted, but never held back: a call that continues one already let through (an LLM repair). */
  force?: boolean;
}

export type Admission =
  | { go: true; probe?: boolean }
  | { go: false; until: number; reason: DeferReason; circuit?: CircuitStatus };

/** What a call came to, for the circuit and the buckets. */
export interface CallReport {
  key: string;
  /** `failure`: a timeout, a 5xx or a connection error (what opens a circuit); anything answered otherwise is `ok`. */
  outcome: "ok" | "failure";
  /** Tokens estimated at take and used in fact (llm). */
  tokens?: { estimated: number; used: number };
  /** A 429's Retry-After: every caller of the limit waits it out. */
  retryAfterMs?: number;
  /** The failure's code, shown with the circuit's state. */
  code?: string;
}

/** One limit as a node reaches it. */
export interface LimitHandle {
  name: string;
  take(request: TakeRequest): Promise<Admission>;
  report(report: CallReport): Promise<void>;
}

/** The limit a call goes through, or why none can be used. */
export type LimitLookup =
  | { ok: true; limit: LimitHandle }
  | { ok: true; limit: undefined }
  | { ok: false; code: "limit.unknown" | "limit.config_invalid"; message: string };

/** Provider limits and circuits; absent where none can be reached (a dry run). */
export interface LimitPort {
  /** The limit of calls to an LLM provider; none when the provider has no limits configured. */
  forProvider(provider: string): LimitLookup;
  /** The limit of an http call: the node's named `limit`, else the one of the URL's host, if configured. */
  forHttp(url: URL, named: string | undefined): LimitLookup;
}
