import type { NodeOutcome } from "../engine/outcome";
import { type ErrorData, errorData } from "../errors";
import { renderTemplate } from "../expr/template";
import { parseDuration } from "../lib/duration";
import { sha256Hex } from "../lib/hash";
import { canonicalJson, type Json, type JsonObject, toJson } from "../lib/json";
import type { CallReport, LimitHandle } from "../limits/types";
import {
  addCalls,
  budgetBreach,
  checkAnswer,
  costOf,
  emptyTotals,
  estimateCall,
  failedCallRecord,
  isLowConfidence,
  priceOf,
  readPath,
  repairPrompt,
  schemaInstruction,
} from "../llm/policy";
import type { CachedAnswer, LlmAttemptContext, LlmCallRecord, LlmMessage, LlmRequest, LlmResponse } from "../llm/types";
import { passLimit } from "./limits";
import { type LlmConfig, llmConfig, modelChain } from "./llm-config";
import { defineNode, type NodeContext } from "./types";

const noContext: LlmAttemptContext = {
  modelIndex: 0,
  run: emptyTotals(),
  prices: {},
  budgetWaived: false,
  fresh: false,
};

/** The replay cache's key: everything that decides the answer, and nothing else. */
export function cacheKey(request: Omit<LlmRequest, "signal" | "timeoutMs">): Promise<string> {
  const { provider, model, system, messages, temperature, maxTokens } = request;
  return sha256Hex(canonicalJson({ v: 1, provider, model, system, messages, temperature, maxTokens }));
}

/** What a structured answer writes: the whole object to `output`, chosen properties to `fields`. */
/** How much of an answer that does not fit its schema the error quotes. */
const quotedAnswerChars = 4_000;

function outputOf(config: LlmConfig, value: Json): JsonObject {
  const output: JsonObject = {};
  if (config.output) output[config.output] = value;
  for (const [key, path] of Object.entries(config.fields ?? {})) output[key] = toJson(readPath(value, path));
  return output;
}

interface LimitedCall {
  limit: LimitHandle;
  key: string;
  tokens: number;
}

/** Failures that say the provider is in trouble (they count against its circuit); the rest were answers. */
const providerFailures: readonly string[] = ["llm.timeout", "llm.provider_error"];

async function reportCall(call: LimitedCall, response: LlmResponse): Promise<void> {
  const report: CallReport = { key: call.key, outcome: "ok" };
  if (response.ok) report.tokens = { estimated: call.tokens, used: response.usage.totalTokens };
  else {
    if (providerFailures.includes(response.error.code)) report.outcome = "failure";
    report.code = response.error.code;
    if (response.error.code === "llm.rate_limited" && response.error.retryAfterMs !== undefined) {
      report.retryAfterMs = response.error.retryAfterMs;
    }
  }
  await call.limit.report(report);
}

/** A failure that ends an attempt keeps the calls it made. */
function withCalls(outcome: NodeOutcome, llm: { calls: LlmCallRecord[] }): NodeOutcome {
  return outcome.type === "failure" ? { ...outcome, llm } : outcome;
}

function promptChars(system: string | undefined, messages: readonly LlmMessage[]): number {
  return messages.reduce((sum, message) => sum + message.content.length, system?.length ?? 0);
}

/**
 * One attempt of an llm node: a call to the attempt's model, then repairs while the answer
 * does not fit its schema. Every call is reported with its latency, outcome, tokens and cost;
 * a failed call ends the attempt, and the engine decides between retry, fallback and review.
 */
async function runAttempt(config: LlmConfig, node: NodeContext): Promise<NodeOutcome> {
  const calls: LlmCallRecord[] = [];
  const llm = { calls };
  const port = node.ports.llm;
  if (!port) {
    return { type: "failure", error: errorData("llm.not_configured", "no LLM providers in this runtime"), llm };
  }
  const context = node.llm ?? noContext;
  const chain = modelChain(config);
  const wanted = chain[Math.min(context.modelIndex, chain.length - 1)] ?? chain[0];
  const target = port.resolve(wanted ?? { provider: config.provider });
  if (!target.ok) return { type: "failure", error: target.error, llm };
  const { provider, model } = target;

  const instructions = config.system === undefined ? undefined : await renderTemplate(config.system, node.context);
  const system = config.schema
    ? [instructions, schemaInstruction(config.schema)].filter((part) => part !== undefined).join("\n\n")
    : instructions;
  const messages: LlmMessage[] = [{ role: "user", content: await renderTemplate(config.prompt, node.context) }];
  const price = priceOf(context.prices, provider, model);
  const timeoutMs = parseDuration(config.timeout) ?? 30_000;
  let spent = context.run;

  for (let call = 1; ; call += 1) {
    const request: LlmRequest = {
      provider,
      model,
      ...(system !== undefined ? { system } : {}),
      messages: messages.slice(),
      ...(config.temperature !== undefined ? { temperature: config.temperature } : {}),
      ...(config.maxTokens !== undefined ? { maxTokens: config.maxTokens } : {}),
      timeoutMs,
      signal: node.signal,
    };
    const key = config.cache ? await cacheKey(request) : undefined;
    const hit = key && !context.fresh && port.cacheGet ? await port.cacheGet(key).catch(() => undefined) : undefined;
    if (!hit && !context.budgetWaived) {
      const estimate = estimateCall(promptChars(system, messages), config.maxTokens, price);
      const breach = budgetBreach(context.budget, spent, estimate);
      if (breach) {
        const message = `the next call (up to ${breach.estimate} ${breach.limit === "tokens" ? "tokens" : "USD"}) would take the run past its budget of ${breach.budget} ${breach.limit === "tokens" ? "tokens" : "USD"} (spent ${breach.spent})`;
        return { type: "escalate", error: errorData("llm.budget_exceeded", message, { details: breach }), llm };
      }
    }
    let limited: LimitedCall | undefined;
    if (!hit) {
      // The provider's limit: the attempt's first call may wait for its turn (nothing spent yet);
      // a repair continues a conversation already begun, so it is counted but never held back.
      const tokens = estimateCall(promptChars(system, messages), config.maxTokens, price).tokens;
      const pass = await passLimit(
        node.ports.limits?.forProvider(provider),
        { key: `${node.idempotencyKey}:${call}`, tokens, timeoutMs, ...(call > 1 ? { force: true } : {}) },
        config.onCircuitOpen,
        node.now,
      );
      if (!pass.go) return withCalls(pass.outcome, llm);
      if (pass.limit) limited = { limit: pass.limit, key: `${node.idempotencyKey}:${call}`, tokens };
    }
    const startedAt = Date.now();
    const response: LlmResponse = hit ? { ok: true, ...hit, latencyMs: 0 } : await port.generate(request);
    if (limited) await reportCall(limited, response);
    const base: Pick<LlmCallRecord, "attempt" | "call" | "purpose" | "provider" | "model" | "startedAt"> = {
      attempt: node.attempt,
      call,
      purpose: call === 1 ? "request" : "repair",
      provider,
      model,
      startedAt,
    };
    if (!response.ok) {
      calls.push(failedCallRecord(base, response));
      return { type: "failure", error: response.error, llm };
    }
    if (key && !hit && port.cachePut) {
      const answer: CachedAnswer = { text: response.text, usage: response.usage, finishReason: response.finishReason };
      await port.cachePut(key, answer, { provider, model }).catch(() => undefined);
    }
    const record = (outcome: LlmCallRecord["outcome"], error?: ErrorData): LlmCallRecord => {
      const entry: LlmCallRecord = {
        ...base,
        latencyMs: response.latencyMs,
        outcome,
        finishReason: response.finishReason,
        usage: response.usage,
        costUsd: hit ? 0 : costOf(response.usage, price),
        cached: Boolean(hit),
        ...(error ? { error: { code: error.code, message: error.message } } : {}),
      };
      calls.push(entry);
      spent = addCalls(spent, [entry]);
      return entry;
    };

    if (!config.schema) {
      record("ok");
      return { type: "success", output: { [config.output as string]: response.text }, llm };
    }
    const check = checkAnswer(response.text, config.schema, config.confidence?.field);
    if (check.outcome !== "ok" || check.value === undefined) {
      // JSON that only misses the schema is still the model's proposal: a reviewer may skip with it,
      // fixed. Only when the details quote the whole answer, so they grow no larger than the quote.
      const proposed =
        check.value !== undefined && response.text.length <= quotedAnswerChars
          ? { output: outputOf(config, check.value) }
          : {};
      const invalid = errorData(
        "llm.output_invalid",
        `the answer does not fit the schema: ${check.errors.join("; ")}`,
        {
          details: {
            errors: check.errors,
            answer: response.text.slice(0, quotedAnswerChars),
            repairs: config.repairs,
            ...proposed,
          },
        },
      );
      record(check.outcome === "ok" ? "schema_invalid" : check.outcome, invalid);
      if (call <= config.repairs) {
        messages.push(
          { role: "assistant", content: response.text },
          { role: "user", content: repairPrompt(check.errors) },
        );
        continue;
      }
      return { type: "failure", error: invalid, llm };
    }
    const output = outputOf(config, check.value);
    const gate = config.confidence;
    if (!gate) {
      record("ok");
      return { type: "success", output, llm };
    }
    const { low, confidence } = isLowConfidence(check.value, gate.field, gate.threshold);
    if (!low) {
      record("ok");
      const route = gate.to ? (node.successors ?? []).filter((successor) => successor !== gate.to) : undefined;
      return route ? { type: "success", output, route, llm } : { type: "success", output, llm };
    }
    const error = errorData(
      "llm.low_confidence",
      `the answer's ${gate.field} is ${confidence}, below ${gate.threshold}`,
      {
        details: { confidence, threshold: gate.threshold, output },
      },
    );
    record("low_confidence", error);
    if (gate.to) return { type: "success", output, route: [gate.to], llm };
    return { type: "escalate", error, llm };
  }
}

export const llmNode = defineNode({
  type: "llm",
  kind: "io",
  dispatch: "queue",
  config: llmConfig,
  // The whole attempt, repairs included; each call has its own `config.timeout`.
  defaultTimeoutMs: 5 * 60_000,
  // Per model: timeouts, 429s and 5xx are retried with backoff before the next model is tried.
  defaultMaxAttempts: 3,
  expressions(c) {
    return [
      ...(c.system === undefined ? [] : [{ path: ["system"], source: c.system, template: true }]),
      { path: ["prompt"], source: c.prompt, template: true },
    ];
  },
  writes: (c) => [...(c.output ? [c.output] : []), ...Object.keys(c.fields ?? {})],
  // The low-confidence edge: taken alone below the threshold, skipped above it.
  timeoutTarget: (c) => (c.confidence?.to ? { path: ["confidence", "to"], nodeId: c.confidence.to } : undefined),
  models: (c) => modelChain(c).length,
  execute: runAttempt,
});
