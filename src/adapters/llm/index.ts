import type { LlmPort } from "../../llm/types";
import { readCachedAnswer, storeCachedAnswer } from "../../store/llm-cache";
import { generateWith } from "./ai-sdk";
import { resolveProvider } from "./config";
import { embedWith } from "./embeddings";

export { envPrices, providerSettings, resolveProvider } from "./config";

/**
 * The LLM port the run shell hands to llm nodes: providers from the environment (see
 * ./config.ts), calls through the AI SDK, the replay cache in D1.
 */
export function llmPortFor(env: Record<string, unknown>, d1?: D1Database): LlmPort {
  const port: LlmPort = {
    resolve(target) {
      const resolved = resolveProvider(env, target);
      if (!resolved.ok) return resolved;
      return { ok: true, provider: resolved.provider.name, model: resolved.provider.model };
    },
    async generate(request) {
      const resolved = resolveProvider(env, { provider: request.provider, model: request.model });
      if (!resolved.ok) return { ok: false, error: resolved.error, latencyMs: 0 };
      return generateWith(resolved.provider, env, request);
    },
    async embed(request) {
      const resolved = resolveProvider(env, { provider: request.provider, model: request.model });
      if (!resolved.ok) return { ok: false, error: resolved.error, latencyMs: 0 };
      return embedWith(resolved.provider, env, request);
    },
  };
  if (d1) {
    port.cacheGet = (key) => readCachedAnswer(d1, key);
    port.cachePut = (key, answer, meta) => storeCachedAnswer(d1, key, answer, meta, Date.now());
  }
  return port;
}
