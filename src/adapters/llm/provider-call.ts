import { APICallError } from "ai";
import { type ErrorData, errorData } from "../../errors";
import { retryAfterMs } from "../../nodes/http";
import type { ResolvedProvider } from "./config";
import { redactError } from "./redact";

export type ProviderCallOutcome<T> =
  | { ok: true; value: T; latencyMs: number }
  | { ok: false; error: ErrorData; latencyMs: number };

/**
 * One call to a model provider (a generation or an embedding batch) under the step's timeout
 * and its cancellation: a failure is classified (retryable or not, `Retry-After`) and stripped
 * of the provider's key before it is recorded anywhere.
 */
export async function providerCall<T>(
  provider: ResolvedProvider,
  request: { timeoutMs: number; signal: AbortSignal },
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<ProviderCallOutcome<T>> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`${what} timed out`));
  }, request.timeoutMs);
  const stop = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) stop();
  else request.signal.addEventListener("abort", stop, { once: true });
  const started = Date.now();
  try {
    const value = await call(controller.signal);
    return { ok: true, value, latencyMs: Date.now() - started };
  } catch (thrown) {
    const error = classifyError(thrown, provider, timedOut || request.signal.aborted);
    return {
      ok: false,
      error: redactError(error, provider.apiKey ? [provider.apiKey] : []),
      latencyMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", stop);
  }
}

function retryAfter(headers: Record<string, string> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const ms = Number(lower["retry-after-ms"]);
  if (Number.isFinite(ms) && ms >= 0 && lower["retry-after-ms"] !== undefined) return ms;
  return retryAfterMs(lower["retry-after"] ?? null, now);
}

/** What a thrown provider error means: retry later (timeouts, 429, 5xx, network) or not (other 4xx). */
export function classifyError(thrown: unknown, provider: ResolvedProvider, timedOut: boolean): ErrorData {
  const who = `${provider.name}/${provider.model}`;
  if (timedOut) return errorData("llm.timeout", `${who} did not answer in time`, { retryable: true });
  if (APICallError.isInstance(thrown)) {
    const status = thrown.statusCode;
    const retryAfterMs = retryAfter(thrown.responseHeaders, Date.now());
    const extra = { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), details: { status: status ?? null } };
    if (status === undefined) {
      return errorData("llm.provider_error", `${who} could not be reached: ${thrown.message}`, { retryable: true });
    }
    if (status === 429) {
      return errorData("llm.rate_limited", `${who} answered 429: ${thrown.message}`, { retryable: true, ...extra });
    }
    if (status === 408 || status === 409 || status >= 500) {
      return errorData("llm.provider_error", `${who} answered ${status}: ${thrown.message}`, {
        retryable: true,
        ...extra,
      });
    }
    const hint =
      (status === 401 || status === 403) && provider.apiKeySecret ? ` (check the secret ${provider.apiKeySecret})` : "";
    return errorData("llm.request_rejected", `${who} answered ${status}: ${thrown.message}${hint}`, extra);
  }
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return errorData("llm.provider_error", `${who} failed: ${message}`, { retryable: true });
}
