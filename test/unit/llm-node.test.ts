import { describe, expect, it } from "vitest";
import type { NodeOutcome } from "../../src/engine/outcome";
import { errorData } from "../../src/errors";
import type { JsonObject } from "../../src/lib/json";
import { deepFreeze } from "../../src/lib/json";
import { emptyTotals } from "../../src/llm/policy";
import type { CachedAnswer, LlmAttemptContext, LlmPort, LlmRequest, LlmResponse } from "../../src/llm/types";
import { cacheKey, llmNode } from "../../src/nodes/llm";

type Reply = { text: string; input?: number; output?: number } | { error: ReturnType<typeof errorData> };

/** A port with scripted replies per model; records every request. */
function fakePort(replies: Record<string, Reply[]>, options: { cache?: Map<string, CachedAnswer> } = {}) {
  const requests: LlmRequest[] = [];
  const port: LlmPort = {
    resolve(target) {
      if (target.provider === "missing") {
        return { ok: false, error: errorData("llm.not_configured", "set LLM_BASE_URL") };
      }
      return { ok: true, provider: target.provider, model: target.model ?? "default-model" };
    },
    async generate(request): Promise<LlmResponse> {
      requests.push(request);
      const reply = replies[request.model]?.shift();
      if (!reply) throw new Error(`fake port: nothing scripted for ${request.model}`);
      if ("error" in reply) return { ok: false, error: reply.error, latencyMs: 7 };
      const usage = { inputTokens: reply.input ?? 10, outputTokens: reply.output ?? 5, totalTokens: 0 };
      usage.totalTokens = usage.inputTokens + usage.outputTokens;
      return { ok: true, text: reply.text, usage, finishReason: "stop", latencyMs: 7 };
    },
  };
  if (options.cache) {
    const cache = options.cache;
    port.cacheGet = async (key) => cache.get(key);
    port.cachePut = async (key, answer) => {
      cache.set(key, answer);
    };
  }
  return { port, requests };
}

const schema = {
  type: "object",
  required: ["label", "confidence"],
  properties: { label: { enum: ["a", "b"] }, confidence: { type: "number" } },
};

async function run(
  config: Record<string, unknown>,
  port: LlmPort,
  llm: Partial<LlmAttemptContext> = {},
  context: JsonObject = { input: { name: "Ada" } },
): Promise<NodeOutcome> {
  const parsed = llmNode.config.parse(config);
  return llmNode.execute(parsed, {
    runId: "run-1",
    workflowId: "wf",
    nodeId: "n",
    attempt: 2,
    idempotencyKey: "run-1:n:2",
    context: deepFreeze(context),
    now: 0,
    signal: new AbortController().signal,
    ports: { fetch: () => Promise.reject(new Error("no fetch")), log: () => undefined, llm: port },
    successors: ["sure", "unsure"],
    llm: {
      modelIndex: 0,
      run: emptyTotals(),
      prices: { "*": { input: 1, output: 1 } },
      budgetWaived: false,
      fresh: false,
      ...llm,
    },
  });
}

const outcomesOf = (outcome: NodeOutcome) => ("llm" in outcome ? outcome.llm?.calls.map((call) => call.outcome) : []);

describe("llm node (fake port)", () => {
  it("renders templates and writes a text answer", async () => {
    const { port, requests } = fakePort({ m: [{ text: "hi Ada" }] });
    const outcome = await run(
      { model: "m", system: "Sys {{ input.name }}", prompt: "Hello {{ input.name }}", output: "out" },
      port,
    );
    expect(outcome).toMatchObject({ type: "success", output: { out: "hi Ada" } });
    expect(requests[0]).toMatchObject({
      provider: "default",
      model: "m",
      system: "Sys Ada",
      messages: [{ role: "user", content: "Hello Ada" }],
      timeoutMs: 30_000,
    });
    expect("llm" in outcome && outcome.llm?.calls[0]).toMatchObject({
      attempt: 2,
      call: 1,
      purpose: "request",
      usage: { totalTokens: 15 },
      costUsd: 0.000015,
      latencyMs: 7,
    });
  });

  it.each([
    {
      name: "valid at once",
      replies: ['{"label":"a","confidence":0.9}'],
      type: "success",
      outcomes: ["ok"],
    },
    {
      name: "repaired once",
      replies: ["nope", '{"label":"a","confidence":0.9}'],
      type: "success",
      outcomes: ["invalid_json", "ok"],
    },
    {
      name: "repairs spent",
      replies: ['{"label":"z","confidence":0.9}', '{"label":"z","confidence":0.9}', '{"label":"z","confidence":0.9}'],
      type: "failure",
      outcomes: ["schema_invalid", "schema_invalid", "schema_invalid"],
    },
  ])("structured output, $name", async ({ replies, type, outcomes }) => {
    const { port, requests } = fakePort({ m: replies.map((text) => ({ text })) });
    const outcome = await run({ model: "m", prompt: "p", schema, output: "out", repairs: 2 }, port);
    expect(outcome.type).toBe(type);
    expect(outcomesOf(outcome)).toEqual(outcomes);
    if (outcome.type === "failure")
      expect(outcome.error).toMatchObject({ code: "llm.output_invalid", retryable: false });
    if (requests.length > 1) {
      const repair = requests[1]?.messages ?? [];
      expect(repair.map((message) => message.role)).toEqual(["user", "assistant", "user"]);
      expect(repair[2]?.content).toContain("validation errors");
    }
  });

  it("passes a failed call through as the attempt's failure, with the call on record", async () => {
    const rateLimited = errorData("llm.rate_limited", "429", { retryable: true, retryAfterMs: 5_000 });
    const { port } = fakePort({ m: [{ error: rateLimited }] });
    const outcome = await run({ model: "m", prompt: "p", output: "out" }, port);
    expect(outcome).toMatchObject({ type: "failure", error: rateLimited });
    expect(outcomesOf(outcome)).toEqual(["rate_limited"]);
  });

  it("uses the chain entry the engine chose: a fallback model, on its own provider", async () => {
    const { port, requests } = fakePort({ spare: [{ text: "from spare" }] });
    const config = { model: "m", fallback: ["x", { provider: "other", model: "spare" }], prompt: "p", output: "out" };
    const outcome = await run(config, port, { modelIndex: 2 });
    expect(outcome).toMatchObject({ type: "success", output: { out: "from spare" } });
    expect(requests[0]).toMatchObject({ provider: "other", model: "spare" });
  });

  it("fails with the port's not_configured error before rendering anything", async () => {
    const { port, requests } = fakePort({});
    const outcome = await run({ provider: "missing", prompt: "p", output: "out" }, port);
    expect(outcome).toMatchObject({ type: "failure", error: { code: "llm.not_configured" } });
    expect(requests).toEqual([]);
  });

  it.each([
    { name: "confident: the other successors", confidence: 0.8, to: "unsure", type: "success", route: ["sure"] },
    { name: "unsure with an edge: only that edge", confidence: 0.3, to: "unsure", type: "success", route: ["unsure"] },
    { name: "unsure without an edge: review", confidence: 0.3, to: undefined, type: "escalate", route: undefined },
    { name: "confident without an edge: no route", confidence: 0.8, to: undefined, type: "success", route: undefined },
  ])("confidence gate, $name", async ({ confidence, to, type, route }) => {
    const { port } = fakePort({ m: [{ text: JSON.stringify({ label: "a", confidence }) }] });
    const gate = { field: "confidence", threshold: 0.5, ...(to ? { to } : {}) };
    const outcome = await run({ model: "m", prompt: "p", schema, output: "out", confidence: gate }, port);
    expect(outcome.type).toBe(type);
    if (outcome.type === "success") expect(outcome.route).toEqual(route);
    if (outcome.type === "escalate") {
      expect(outcome.error).toMatchObject({
        code: "llm.low_confidence",
        details: { confidence: 0.3, threshold: 0.5, output: { out: { label: "a", confidence: 0.3 } } },
      });
    }
  });

  it.each([
    { name: "fits", spent: 0, waived: false, type: "success" },
    { name: "would cross", spent: 90, waived: false, type: "escalate" },
    { name: "would cross, waived by a reviewer", spent: 90, waived: true, type: "success" },
  ])("budget: $name", async ({ spent, waived, type }) => {
    const { port, requests } = fakePort({ m: [{ text: "ok" }] });
    const outcome = await run({ model: "m", prompt: "1234", output: "out", maxTokens: 10 }, port, {
      budget: { tokens: 100 },
      run: { ...emptyTotals(), totalTokens: spent },
      budgetWaived: waived,
    });
    expect(outcome.type).toBe(type);
    expect(requests).toHaveLength(type === "success" ? 1 : 0);
    if (outcome.type === "escalate") {
      expect(outcome.error).toMatchObject({ code: "llm.budget_exceeded", details: { spent: 90, estimate: 11 } });
    }
  });

  it("checks the budget before each repair too", async () => {
    const { port } = fakePort({ m: [{ text: "not json", input: 50, output: 30 }] });
    const outcome = await run({ model: "m", prompt: "p", schema, output: "out", maxTokens: 10 }, port, {
      budget: { tokens: 100 },
    });
    expect(outcome.type).toBe("escalate");
    expect(outcomesOf(outcome)).toEqual(["invalid_json"]);
  });

  it("replays from the cache by request hash; a reviewer's retry reads it no more", async () => {
    const cache = new Map<string, CachedAnswer>();
    const first = fakePort({ m: [{ text: "original" }] }, { cache });
    const config = { model: "m", prompt: "same", output: "out", cache: true, temperature: 0 };
    expect(await run(config, first.port)).toMatchObject({ output: { out: "original" } });
    expect(cache.size).toBe(1);
    const replay = fakePort({ m: [] }, { cache });
    const replayed = await run(config, replay.port);
    expect(replayed).toMatchObject({ type: "success", output: { out: "original" } });
    expect("llm" in replayed && replayed.llm?.calls[0]).toMatchObject({ cached: true, costUsd: 0, latencyMs: 0 });
    expect(replay.requests).toEqual([]);
    const fresh = fakePort({ m: [{ text: "new" }] }, { cache });
    expect(await run(config, fresh.port, { fresh: true })).toMatchObject({ output: { out: "new" } });
    // Any parameter that changes the answer changes the key.
    const base = { provider: "p", model: "m", messages: [{ role: "user" as const, content: "x" }] };
    const keys = await Promise.all([
      cacheKey(base),
      cacheKey({ ...base, temperature: 0.5 }),
      cacheKey({ ...base, system: "s" }),
      cacheKey({ ...base, model: "n" }),
      cacheKey({ ...base, provider: "q" }),
      cacheKey({ ...base, maxTokens: 9 }),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("llm node config", () => {
  it.each([
    { name: "text without output", config: { prompt: "p" }, message: "output" },
    { name: "fields without schema", config: { prompt: "p", output: "o", fields: { a: "b" } }, message: "schema" },
    {
      name: "confidence without schema",
      config: { prompt: "p", output: "o", confidence: { field: "c", threshold: 1 } },
      message: "schema",
    },
    { name: "schema without a destination", config: { prompt: "p", schema: { type: "object" } }, message: "fields" },
    {
      name: "an invalid schema",
      config: { prompt: "p", output: "o", schema: { type: "thing" } },
      message: "JSON Schema",
    },
    { name: "a bad provider name", config: { prompt: "p", output: "o", provider: "no spaces" }, message: "provider" },
  ])("rejects $name", ({ config, message }) => {
    const result = llmNode.config.safeParse(config);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it("declares what it writes, its templates, its low-confidence edge and its chain", () => {
    const config = llmNode.config.parse({
      model: "m",
      fallback: ["n", { provider: "other" }],
      system: "s {{ a }}",
      prompt: "p {{ b }}",
      schema,
      output: "whole",
      fields: { label: "label" },
      confidence: { field: "confidence", threshold: 0.5, to: "check" },
    });
    expect(llmNode.writes(config)).toEqual(["whole", "label"]);
    expect(llmNode.expressions(config).map((site) => site.path)).toEqual([["system"], ["prompt"]]);
    expect(llmNode.timeoutTarget?.(config)).toEqual({ path: ["confidence", "to"], nodeId: "check" });
    expect(llmNode.models?.(config)).toBe(3);
  });
});
