import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, type LanguageModel } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import type { LlmRequest, LlmResponse } from "../../llm/types";
import type { ResolvedProvider } from "./config";
import { providerCall } from "./provider-call";
import { redactText } from "./redact";

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

export async function generateWith(
  provider: ResolvedProvider,
  env: Record<string, unknown>,
  request: LlmRequest,
): Promise<LlmResponse> {
  const outcome = await providerCall(provider, request, "llm call", (abortSignal) =>
    generateText({
      model: languageModel(provider, env),
      ...(request.system !== undefined ? { instructions: request.system } : {}),
      messages: request.messages,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
      maxRetries: 0,
      abortSignal,
    }),
  );
  if (!outcome.ok) return outcome;
  const { value: result, latencyMs } = outcome;
  const inputTokens = result.usage.inputTokens ?? 0;
  const outputTokens = result.usage.outputTokens ?? 0;
  return {
    ok: true,
    text: redactText(result.text, provider.apiKey ? [provider.apiKey] : []),
    usage: { inputTokens, outputTokens, totalTokens: result.usage.totalTokens ?? inputTokens + outputTokens },
    finishReason: String(result.finishReason),
    latencyMs,
  };
}
