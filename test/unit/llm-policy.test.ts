import { describe, expect, it } from "vitest";
import {
  addCalls,
  budgetBreach,
  callOutcomeOf,
  checkAnswer,
  costOf,
  emptyTotals,
  estimateCall,
  isLowConfidence,
  parseJsonAnswer,
  priceOf,
  repairPrompt,
} from "../../src/llm/policy";
import type { LlmCallRecord, UsageTotals } from "../../src/llm/types";

function call(overrides: Partial<LlmCallRecord> = {}): LlmCallRecord {
  return {
    attempt: 1,
    call: 1,
    purpose: "request",
    provider: "default",
    model: "m",
    startedAt: 0,
    latencyMs: 5,
    outcome: "ok",
    finishReason: "stop",
    usage: { inputTokens: 100, outputTokens: 50, totalTokens: 150 },
    costUsd: 0.0002,
    cached: false,
    ...overrides,
  };
}

const totals = (overrides: Partial<UsageTotals>): UsageTotals => ({ ...emptyTotals(), ...overrides });

describe("prices and cost", () => {
  const prices = {
    "openai/gpt-x": { input: 5, output: 15 },
    "gpt-x": { input: 1, output: 1 },
    "*": { input: 0.5, output: 0.5 },
  };
  it.each([
    { provider: "openai", model: "gpt-x", expected: { input: 5, output: 15 } },
    { provider: "other", model: "gpt-x", expected: { input: 1, output: 1 } },
    { provider: "other", model: "unknown", expected: { input: 0.5, output: 0.5 } },
  ])("looks up $provider/$model: provider/model, then model, then *", ({ provider, model, expected }) => {
    expect(priceOf(prices, provider, model)).toEqual(expected);
  });

  it("has no price without a match", () => {
    expect(priceOf({}, "a", "b")).toBeUndefined();
    expect(costOf({ inputTokens: 1, outputTokens: 1, totalTokens: 2 }, undefined)).toBeNull();
  });

  it.each([
    { input: 1_000_000, output: 0, price: { input: 3, output: 15 }, cost: 3 },
    { input: 1_000, output: 500, price: { input: 3, output: 15 }, cost: 0.0105 },
    { input: 1, output: 1, price: { input: 0.1, output: 0.2 }, cost: 0.0000003 },
  ])(
    "$input in / $output out at $price.input/$price.output per million costs $cost",
    ({ input, output, price, cost }) => {
      expect(costOf({ inputTokens: input, outputTokens: output, totalTokens: input + output }, price)).toBe(cost);
    },
  );
});

describe("addCalls", () => {
  it("sums tokens and dollars, counts unpriced calls, and charges nothing for cached answers", () => {
    const result = addCalls(emptyTotals(), [
      call(),
      call({ costUsd: null }),
      call({ cached: true, costUsd: 0 }),
      call({ costUsd: 0.0001, usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } }),
    ]);
    expect(result).toEqual({
      calls: 4,
      cachedCalls: 1,
      inputTokens: 201,
      outputTokens: 102,
      totalTokens: 303,
      costUsd: 0.0003,
      unpricedCalls: 1,
    });
  });

  it("keeps dollars exact to a billionth over many small calls", () => {
    const many = Array.from({ length: 1_000 }, () => call({ costUsd: 0.000001 }));
    expect(addCalls(emptyTotals(), many).costUsd).toBe(0.001);
  });
});

describe("budget", () => {
  it("estimates a call as its prompt (4 chars a token) plus every output token allowed", () => {
    expect(estimateCall(400, 50, { input: 1_000_000, output: 0 })).toEqual({ tokens: 150, costUsd: 100 });
    expect(estimateCall(1, undefined, undefined)).toEqual({ tokens: 1 + 1_024, costUsd: null });
  });

  it.each([
    {
      name: "no budget",
      budget: undefined,
      spent: totals({}),
      estimate: { tokens: 1e9, costUsd: 1e9 },
      breach: undefined,
    },
    {
      name: "tokens fit exactly",
      budget: { tokens: 100 },
      spent: totals({ totalTokens: 40 }),
      estimate: { tokens: 60, costUsd: null },
      breach: undefined,
    },
    {
      name: "tokens over by one",
      budget: { tokens: 100 },
      spent: totals({ totalTokens: 41 }),
      estimate: { tokens: 60, costUsd: null },
      breach: { limit: "tokens", budget: 100, spent: 41, estimate: 60 },
    },
    {
      name: "cost over",
      budget: { costUsd: 1 },
      spent: totals({ costUsd: 0.75 }),
      estimate: { tokens: 1, costUsd: 0.5 },
      breach: { limit: "costUsd", budget: 1, spent: 0.75, estimate: 0.5 },
    },
    {
      name: "an unpriced call cannot break a cost budget",
      budget: { costUsd: 1 },
      spent: totals({ costUsd: 0.99 }),
      estimate: { tokens: 1_000, costUsd: null },
      breach: undefined,
    },
  ])("$name", ({ budget, spent, estimate, breach }) => {
    expect(budgetBreach(budget, spent, estimate)).toEqual(breach);
  });
});

describe("answers: JSON, schema, confidence", () => {
  const schema = {
    type: "object",
    required: ["label"],
    properties: { label: { enum: ["a", "b"] }, meta: { type: "object" } },
  };

  it.each([
    { text: '{"a":1}', value: { a: 1 } },
    { text: '  ```json\n{"a":1}\n```  ', value: { a: 1 } },
    { text: "```\n[1,2]\n```", value: [1, 2] },
  ])("parses $text", ({ text, value }) => {
    expect(parseJsonAnswer(text)).toEqual({ ok: true, value });
  });

  it("reports what is wrong with text that is not JSON", () => {
    const result = parseJsonAnswer("Sure, here it is: {");
    expect(result.ok).toBe(false);
  });

  it.each([
    { name: "fits", text: '{"label":"a","meta":{"confidence":0.5}}', outcome: "ok", errors: [] },
    { name: "not JSON", text: "label: a", outcome: "invalid_json", errors: [expect.stringContaining("not JSON")] },
    {
      name: "drifted",
      text: '{"label":"c"}',
      outcome: "schema_invalid",
      errors: [expect.stringMatching(/^\/label: /)],
    },
    { name: "missing", text: "{}", outcome: "schema_invalid", errors: [expect.stringContaining("label")] },
  ])("checkAnswer: $name", ({ text, outcome, errors }) => {
    const check = checkAnswer(text, schema);
    expect(check.outcome).toBe(outcome);
    expect(check.errors).toEqual(errors);
  });

  it("treats a missing or non-numeric confidence as something to repair", () => {
    expect(checkAnswer('{"label":"a"}', schema, "meta.confidence")).toMatchObject({
      outcome: "schema_invalid",
      errors: ["/meta/confidence: must be a number (the answer's confidence)"],
    });
    expect(checkAnswer('{"label":"a","meta":{"confidence":0.2}}', schema, "meta.confidence").outcome).toBe("ok");
  });

  it.each([
    { value: { c: 0.69 }, low: true },
    { value: { c: 0.7 }, low: false },
    { value: { c: 1 }, low: false },
    { value: { c: "high" }, low: true },
  ])("confidence $value.c against 0.7: low = $low", ({ value, low }) => {
    expect(isLowConfidence(value, "c", 0.7).low).toBe(low);
  });

  it("quotes the validation errors in the repair prompt, bounded", () => {
    const prompt = repairPrompt(Array.from({ length: 15 }, (_, index) => `/field${index}: wrong`));
    expect(prompt).toContain("- /field0: wrong");
    expect(prompt).toContain("- /field9: wrong");
    expect(prompt).not.toContain("/field10:");
    expect(prompt).toContain("and 5 more");
    expect(prompt).toContain("only the corrected JSON object");
  });
});

describe("callOutcomeOf", () => {
  it.each([
    ["llm.timeout", "timeout"],
    ["node.timeout", "timeout"],
    ["llm.rate_limited", "rate_limited"],
    ["llm.provider_error", "provider_error"],
    ["llm.request_rejected", "rejected"],
    ["llm.not_configured", "rejected"],
  ] as const)("%s is %s", (code, outcome) => {
    expect(callOutcomeOf(code)).toBe(outcome);
  });
});
