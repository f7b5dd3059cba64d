import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type EmbeddingModel, embedMany } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import { errorData } from "../../errors";
import type { EmbedRequest, EmbedResponse } from "../../llm/types";
import { classifyError } from "./ai-sdk";
import type { ResolvedProvider } from "./config";
import { redactError } from "./redact";

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
  const secrets = provider.apiKey ? [provider.apiKey] : [];
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("embedding call timed out"));
  }, request.timeoutMs);
  const stop = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) stop();
  else request.signal.addEventListener("abort", stop, { once: true });
  const started = Date.now();
  try {
    const result = await embedMany({
      model,
      values: request.values,
      ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
      maxRetries: 0,
      maxParallelCalls: 1,
      abortSignal: controller.signal,
    });
    const inputTokens = result.usage.tokens ?? 0;
    return {
      ok: true,
      vectors: result.embeddings.map((vector) => [...vector]),
      usage: { inputTokens, outputTokens: 0, totalTokens: inputTokens },
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
