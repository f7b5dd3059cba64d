import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type EmbeddingModel, embedMany } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import { errorData } from "../../errors";
import type { EmbedRequest, EmbedResponse } from "../../llm/types";
import type { ResolvedProvider } from "./config";
import { providerCall } from "./provider-call";

/**
 * One embedding call through the AI SDK's `embedMany`, for one batch: the node does the
 * batching, so each batch is one request and one record in the report. The SDK's retries and
 * its own splitting are off; retries are the engine's.
 */

function embeddingModel(provider: ResolvedProvider, env: Record<string, unknown>): EmbeddingModel | undefined {
  const { settings, model, apiKey } = provider;
  switch (settings.type) {
    case "openai-compatible":
      return createOpenAICompatible({
        name: provider.name,
        baseURL: settings.baseUrl ?? "",
        ...(apiKey ? { apiKey } : {}),
        ...(settings.headers ? { headers: settings.headers } : {}),
      }).embeddingModel(model);
    case "workers-ai":
      return createWorkersAI({ binding: env[settings.binding ?? "AI"] as Ai }).textEmbeddingModel(model);
    case "anthropic":
      // Anthropic has no embeddings endpoint.
      return undefined;
  }
}

export async function embedWith(
  provider: ResolvedProvider,
  env: Record<string, unknown>,
  request: EmbedRequest,
): Promise<EmbedResponse> {
  const model = embeddingModel(provider, env);
  if (!model) {
    const message = `${provider.name} (${provider.settings.type}) has no embedding models: use an OpenAI-compatible or Workers AI provider`;
    return { ok: false, error: errorData("embed.not_supported", message), latencyMs: 0 };
  }
  const outcome = await providerCall(provider, request, "embedding call", (abortSignal) =>
    embedMany({
      model,
      values: request.values,
      ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
      maxRetries: 0,
      maxParallelCalls: 1,
      abortSignal,
    }),
  );
  if (!outcome.ok) return outcome;
  const inputTokens = outcome.value.usage.tokens ?? 0;
  return {
    ok: true,
    vectors: outcome.value.embeddings.map((vector) => [...vector]),
    usage: { inputTokens, outputTokens: 0, totalTokens: inputTokens },
    latencyMs: outcome.latencyMs,
  };
}
