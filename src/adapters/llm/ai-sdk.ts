import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, type LanguageModel } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import { type ErrorData, errorData } from "../../errors";
import type { LlmRequest, LlmResponse } from "../../llm/types";
import { retryAfterMs } from "../../nodes/http";
import type { ResolvedProvider } from "./config";
import { redactError, redactText } from "./redact";

/**
 * One call through the AI SDK. The library speaks each provider's protocol; this file decides
 * only what its answers and errors mean to the engine. Its own retries are off: retries,
 * backoff and fallback are the engine's, on the run's alarm.
 */

function languageModel(provider: ResolvedProvider, env: Record<string, unknown>): LanguageModel {
  const { settings, model, apiKey } = provider;
  switch (settings.type) {
    case "openai-compatible":
      return createOpenAICompatible({
        name: provider.name,
        baseURL: settings.baseUrl ?? "",
        ...(apiKey ? { apiKey } : {}),
        ...(settings.headers ? { headers: settings.headers } : {}),
        includeUsage: true,
      }).chatModel(model);
    case "anthropic":
      return createAnthropic({
        ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(settings.headers ? { headers: settings.headers } : {}),
      })(model);
    case "workers-ai":
      return createWorkersAI({ binding: env[settings.binding ?? "AI"] as Ai })(model);
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

export async function generateWith(
  provider: ResolvedProvider,
  env: Record<string, unknown>,
  request: LlmRequest,
): Promise<LlmResponse> {
  const secrets = provider.apiKey ? [provider.apiKey] : [];
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("llm call timed out"));
  }, request.timeoutMs);
  const stop = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) stop();
  else request.signal.addEventListener("abort", stop, { once: true });
  const started = Date.now();
  try {
    const result = await generateText({
      model: languageModel(provider, env),
      ...(request.system !== undefined ? { instructions: request.system } : {}),
      messages: request.messages,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
      maxRetries: 0,
      abortSignal: controller.signal,
    });
    const inputTokens = result.usage.inputTokens ?? 0;
    const outputTokens = result.usage.outputTokens ?? 0;
    return {
      ok: true,
      text: redactText(result.text, secrets),
      usage: { inputTokens, outputTokens, totalTokens: result.usage.totalTokens ?? inputTokens + outputTokens },
      finishReason: String(result.finishReason),
      latencyMs: Date.now() - started,
    };
  } catch (thrown) {
    const error = classifyError(thrown, provider, timedOut || request.signal.aborted);
    return { ok: false, error: redactError(error, secrets), latencyMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", stop);
  }
}
