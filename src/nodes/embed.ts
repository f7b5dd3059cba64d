import { z } from "zod";
import type { NodeOutcome } from "../engine/outcome";
import { type ErrorCode, errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { parseDuration } from "../lib/duration";
import { duration } from "../lib/schema-parts";
import { addCalls, budgetBreach, costOf, emptyTotals, estimateCall, failedCallRecord, priceOf } from "../llm/policy";
import type { LlmAttemptContext, LlmCallRecord } from "../llm/types";
import { providerName } from "./llm-config";
import { defineNode, type NodeContext } from "./types";

/** The most texts one step embeds: a bound on the step's calls and on the vectors it writes. */
export const maxEmbedItems = 10_000;

const config = z.strictObject({
  provider: providerName.default("default"),
  /** An embedding model: a provider's default model is a chat model, so it is named here. */
  model: z.string().min(1).max(200),
  /** JSONata: a string, a list of strings, or a list of `{text}` (an extract step's chunks). */
  input: z.string().min(1),
  output: z.string().min(1),
  /** Texts per request, within the provider's limit (OpenAI takes 2,048; Workers AI's bge models 100). */
  batchSize: z.number().int().min(1).max(2_048).default(64),
  dimensions: z.number().int().min(1).max(8_192).optional(),
  /** Each call's limit; the node's own `timeout` bounds every batch together. */
  timeout: duration.default("30s"),
});
type EmbedConfig = z.infer<typeof config>;

const noContext: LlmAttemptContext = {
  modelIndex: 0,
  run: emptyTotals(),
  prices: {},
  budgetWaived: false,
  fresh: false,
};

type Texts = { ok: true; texts: string[] } | { ok: false; message: string; index?: number };

/** The texts to embed, in order: what the input expression gave, checked. */
export function textsOf(value: unknown): Texts {
  const items = Array.isArray(value) ? value : [value];
  if (items.length > maxEmbedItems) {
    return { ok: false, message: `${items.length} texts, over the limit of ${maxEmbedItems} per step` };
  }
  const texts: string[] = [];
  for (const [index, item] of items.entries()) {
    const text =
      typeof item === "string"
        ? item
        : item && typeof item === "object" && typeof (item as { text?: unknown }).text === "string"
          ? (item as { text: string }).text
          : undefined;
    if (text === undefined) {
      const got = item === undefined ? "nothing" : JSON.stringify(item).slice(0, 80);
      return { ok: false, message: `item ${index} is not a string or {text}: ${got}`, index };
    }
    if (text.trim() === "") return { ok: false, message: `item ${index} is empty text`, index };
    texts.push(text);
  }
  return { ok: true, texts };
}

function failure(code: ErrorCode, message: string, calls: LlmCallRecord[], details?: unknown): NodeOutcome {
  return { type: "failure", error: errorData(code, `embed: ${message}`, details ? { details } : {}), llm: { calls } };
}

/**
 * One attempt: the texts in batches of `batchSize`, one call each, in order. Every call is
 * reported with its tokens and cost like an llm call; a failed call ends the attempt, and a
 * retry starts again from the first batch.
 */
async function runAttempt(c: EmbedConfig, node: NodeContext): Promise<NodeOutcome> {
  const calls: LlmCallRecord[] = [];
  const port = node.ports.llm;
  if (!port?.embed) return failure("llm.not_configured", "no embedding providers in this runtime", calls);
  const input = textsOf(await evaluate(c.input, node.context));
  if (!input.ok) {
    return failure("embed.input_invalid", `\`input\` (${c.input}): ${input.message}`, calls, {
      index: input.index ?? null,
    });
  }
  const target = port.resolve({ provider: c.provider, model: c.model });
  if (!target.ok) return { type: "failure", error: target.error, llm: { calls } };
  const { provider, model } = target;
  const context = node.llm ?? noContext;
  const price = priceOf(context.prices, provider, model);
  const timeoutMs = parseDuration(c.timeout) ?? 30_000;
  let spent = context.run;
  const vectors: number[][] = [];
  for (let start = 0, call = 1; start < input.texts.length; start += c.batchSize, call += 1) {
    const values = input.texts.slice(start, start + c.batchSize);
    if (!context.budgetWaived) {
      const chars = values.reduce((sum, text) => sum + text.length, 0);
      const breach = budgetBreach(context.budget, spent, estimateCall(chars, 0, price));
      if (breach) {
        const message = `the next batch (up to ${breach.estimate} ${breach.limit === "tokens" ? "tokens" : "USD"}) would take the run past its budget of ${breach.budget} (spent ${breach.spent})`;
        return {
          type: "escalate",
          error: errorData("llm.budget_exceeded", message, { details: breach }),
          llm: { calls },
        };
      }
    }
    const startedAt = Date.now();
    const response = await port.embed({
      provider,
      model,
      values,
      ...(c.dimensions !== undefined ? { dimensions: c.dimensions } : {}),
      timeoutMs,
      signal: node.signal,
    });
    const base = { attempt: node.attempt, call, purpose: "embed", provider, model, startedAt } as const;
    if (!response.ok) {
      calls.push(failedCallRecord(base, response));
      return { type: "failure", error: response.error, llm: { calls } };
    }
    const record: LlmCallRecord = {
      ...base,
      latencyMs: response.latencyMs,
      outcome: "ok",
      finishReason: null,
      usage: response.usage,
      costUsd: costOf(response.usage, price),
      cached: false,
    };
    calls.push(record);
    spent = addCalls(spent, [record]);
    if (response.vectors.length !== values.length) {
      const message = `${provider}/${model} answered ${response.vectors.length} vectors for ${values.length} texts`;
      return failure("embed.output_invalid", message, calls);
    }
    vectors.push(...response.vectors);
  }
  const dimensions = vectors[0]?.length ?? c.dimensions ?? null;
  return { type: "success", output: { [c.output]: { provider, model, dimensions, vectors } }, llm: { calls } };
}

export const embedNode = defineNode({
  type: "embed",
  kind: "io",
  dispatch: "queue",
  config,
  defaultTimeoutMs: 5 * 60_000,
  defaultMaxAttempts: 3,
  expressions: (c) => [{ path: ["input"], source: c.input }],
  writes: (c) => [c.output],
  // One model: the engine records the calls, prices them and holds them to the run's budget as an llm step's.
  models: () => 1,
  execute: runAttempt,
});
