import { APICallError } from "ai";
import { describe, expect, it } from "vitest";
import { envPrices, type ResolvedProvider, resolveProvider } from "../../src/adapters/llm/config";
import { classifyError } from "../../src/adapters/llm/provider-call";
import { redactError, redactText } from "../../src/adapters/llm/redact";
import { compilePlan } from "../../src/definition/compile";
import { validateDefinition } from "../../src/definition/validate";
import { errorData } from "../../src/errors";
import example from "../../workflows/support-ticket.json";

describe("providers from the environment", () => {
  it.each([
    {
      name: "nothing set: default says what to set",
      env: {},
      target: { provider: "default" },
      error: ["LLM_BASE_URL", "LLM_MODEL"],
    },
    {
      name: "default without a model",
      env: { LLM_BASE_URL: "http://127.0.0.1:1/v1" },
      target: { provider: "default" },
      error: ["LLM_MODEL"],
    },
    {
      name: "openai without its secret",
      env: {},
      target: { provider: "openai", model: "gpt" },
      error: ["OPENAI_API_KEY"],
    },
    {
      name: "anthropic without its secret",
      env: {},
      target: { provider: "anthropic", model: "claude" },
      error: ["ANTHROPIC_API_KEY"],
    },
    {
      name: "workers-ai without a binding",
      env: {},
      target: { provider: "workers-ai", model: "@cf/x" },
      error: ["[ai]"],
    },
    { name: "an unknown name", env: {}, target: { provider: "mine", model: "m" }, error: ["LLM_PROVIDERS"] },
    {
      name: "a named secret that is not set",
      env: {
        LLM_PROVIDERS: JSON.stringify({
          mine: { type: "openai-compatible", baseUrl: "http://h/v1", apiKey: "MY_KEY" },
        }),
      },
      target: { provider: "mine", model: "m" },
      error: ["MY_KEY"],
    },
    {
      name: "LLM_PROVIDERS that is not JSON",
      env: { LLM_PROVIDERS: "{nope" },
      target: { provider: "mine", model: "m" },
      error: ["LLM_PROVIDERS is not JSON"],
    },
    {
      name: "LLM_PROVIDERS with a bad entry",
      env: { LLM_PROVIDERS: JSON.stringify({ mine: { type: "carrier-pigeon" } }) },
      target: { provider: "mine", model: "m" },
      error: ["LLM_PROVIDERS: mine.type"],
    },
  ])("not configured: $name", ({ env, target, error }) => {
    const result = resolveProvider(env, target);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: "llm.not_configured", retryable: false });
    for (const fragment of error) expect(result.error.message).toContain(fragment);
  });

  it.each([
    {
      name: "default from LLM_BASE_URL, keyless (a local server)",
      env: { LLM_BASE_URL: "http://127.0.0.1:11434/v1", LLM_MODEL: "llama" },
      target: { provider: "default" },
      resolved: {
        name: "default",
        model: "llama",
        settings: { type: "openai-compatible", baseUrl: "http://127.0.0.1:11434/v1" },
      },
      key: undefined,
    },
    {
      name: "default with the LLM_API_KEY secret",
      env: { LLM_BASE_URL: "http://h/v1", LLM_API_KEY: "sk-1234567" },
      target: { provider: "default", model: "m" },
      resolved: { model: "m", apiKeySecret: "LLM_API_KEY" },
      key: "sk-1234567",
    },
    {
      name: "default with a key under another secret name",
      env: { LLM_BASE_URL: "http://h/v1", LLM_API_KEY_SECRET: "GATEWAY_KEY", GATEWAY_KEY: "gw-123456" },
      target: { provider: "default", model: "m" },
      resolved: { apiKeySecret: "GATEWAY_KEY" },
      key: "gw-123456",
    },
    {
      name: "openai from its secret",
      env: { OPENAI_API_KEY: "sk-openai-1" },
      target: { provider: "openai", model: "gpt" },
      resolved: { settings: { type: "openai-compatible", apiKey: "OPENAI_API_KEY" } },
      key: "sk-openai-1",
    },
    {
      name: "anthropic with a base URL",
      env: { ANTHROPIC_API_KEY: "sk-ant-1", ANTHROPIC_BASE_URL: "http://127.0.0.1:9/v1" },
      target: { provider: "anthropic", model: "claude" },
      resolved: { settings: { type: "anthropic", baseUrl: "http://127.0.0.1:9/v1" } },
      key: "sk-ant-1",
    },
    {
      name: "LLM_PROVIDERS overrides a shorthand and brings a default model",
      env: {
        LLM_BASE_URL: "http://ignored/v1",
        LLM_PROVIDERS: { default: { type: "openai-compatible", baseUrl: "http://gw/compat", model: "gw-model" } },
      },
      target: { provider: "default" },
      resolved: { model: "gw-model", settings: { baseUrl: "http://gw/compat" } },
      key: undefined,
    },
    {
      name: "workers-ai from the AI binding",
      env: { AI: { run: () => undefined } },
      target: { provider: "workers-ai", model: "@cf/meta/llama" },
      resolved: { settings: { type: "workers-ai", binding: "AI" } },
      key: undefined,
    },
  ])("resolves $name", ({ env, target, resolved, key }) => {
    const result = resolveProvider(env, target);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.provider).toMatchObject(resolved);
    expect(result.provider.apiKey).toBe(key);
  });

  it("reads LLM_PRICES, and says what is wrong with it", () => {
    expect(envPrices({ LLM_PRICES: '{"gpt":{"input":1,"output":2}}' })).toEqual({
      prices: { gpt: { input: 1, output: 2 } },
    });
    expect(envPrices({})).toEqual({ prices: {} });
    expect(envPrices({ LLM_PRICES: '{"gpt":{"input":-1}}' }).problem).toContain("LLM_PRICES");
  });
});

describe("what a provider error means", () => {
  const provider: ResolvedProvider = {
    name: "default",
    model: "m",
    settings: { type: "openai-compatible", baseUrl: "http://h/v1", apiKey: "LLM_API_KEY" },
    apiKey: "sk-secret-123",
    apiKeySecret: "LLM_API_KEY",
  };
  const apiError = (statusCode: number | undefined, headers?: Record<string, string>) =>
    new APICallError({
      message: "nope",
      url: "http://h/v1/chat/completions",
      requestBodyValues: {},
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(headers ? { responseHeaders: headers } : {}),
    });

  it.each([
    {
      name: "429 with Retry-After",
      thrown: apiError(429, { "Retry-After": "12" }),
      code: "llm.rate_limited",
      retryable: true,
      after: 12_000,
    },
    {
      name: "429 with retry-after-ms",
      thrown: apiError(429, { "retry-after-ms": "1500" }),
      code: "llm.rate_limited",
      retryable: true,
      after: 1_500,
    },
    { name: "500", thrown: apiError(500), code: "llm.provider_error", retryable: true, after: undefined },
    {
      name: "503 with Retry-After",
      thrown: apiError(503, { "retry-after": "3" }),
      code: "llm.provider_error",
      retryable: true,
      after: 3_000,
    },
    { name: "408", thrown: apiError(408), code: "llm.provider_error", retryable: true, after: undefined },
    { name: "400", thrown: apiError(400), code: "llm.request_rejected", retryable: false, after: undefined },
    { name: "unreachable", thrown: apiError(undefined), code: "llm.provider_error", retryable: true, after: undefined },
    {
      name: "something else",
      thrown: new TypeError("bad response"),
      code: "llm.provider_error",
      retryable: true,
      after: undefined,
    },
  ])("$name -> $code", ({ thrown, code, retryable, after }) => {
    const error = classifyError(thrown, provider, false);
    expect(error).toMatchObject({ code, retryable });
    expect(error.retryAfterMs).toBe(after);
  });

  it("a timeout is llm.timeout whatever was thrown; a 401 names the secret to check", () => {
    expect(classifyError(new Error("aborted"), provider, true)).toMatchObject({ code: "llm.timeout", retryable: true });
    expect(classifyError(apiError(401), provider, false).message).toContain("check the secret LLM_API_KEY");
  });

  it("redacts keys from text, messages and details", () => {
    expect(redactText("key sk-secret-123 and sk-secret-123", ["sk-secret-123"])).toBe("key [redacted] and [redacted]");
    expect(redactText("abc", ["abc"])).toBe("abc");
    const error = errorData("llm.request_rejected", "you sent Bearer sk-secret-123", {
      details: { echo: { header: "sk-secret-123" } },
    });
    expect(JSON.stringify(redactError(error, ["sk-secret-123"]))).not.toContain("sk-secret-123");
  });
});

describe("llm nodes in definitions", () => {
  const base = (node: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    id: "wf",
    name: "wf",
    nodes: [
      { id: "ask", type: "llm", ...node },
      { id: "check", type: "log", config: { message: "m" } },
    ],
    edges: [{ from: "ask", to: "check" }],
    ...extra,
  });
  const config = { prompt: "p", schema: { type: "object" }, output: "o", confidence: { field: "c", threshold: 0.5 } };

  it("needs reviewers when low-confidence answers go to review", () => {
    const result = validateDefinition(base({ config }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toMatchObject([{ code: "definition.invalid", path: ["nodes", 0, "config", "confidence"] }]);
    expect(validateDefinition(base({ config }, { reviewers: ["a@x.test"] })).ok).toBe(true);
    expect(validateDefinition(base({ config, retry: { escalateTo: ["a@x.test"] } })).ok).toBe(true);
    expect(
      validateDefinition(base({ config: { ...config, confidence: { ...config.confidence, to: "check" } } })).ok,
    ).toBe(true);
  });

  it("checks the low-confidence edge like a branch target, and rejects a bad budget", () => {
    const noEdge = validateDefinition({
      ...base({ config: { ...config, confidence: { field: "c", threshold: 1, to: "nowhere" } } }),
    });
    expect(noEdge.ok).toBe(false);
    if (!noEdge.ok) expect(noEdge.issues[0]).toMatchObject({ code: "definition.branch_target" });
    const budget = validateDefinition(
      base({ config: { prompt: "p", output: "o" } }, { llm: { budget: { tokens: -1 } } }),
    );
    expect(budget.ok).toBe(false);
  });

  it("compiles the chain, the reviewers, the budget and prices into the plan", () => {
    const result = validateDefinition(
      base(
        { config: { prompt: "p", output: "o", fallback: ["b", "c"] }, retry: { escalationExpiresIn: "1h" } },
        { reviewers: ["r@x.test"], llm: { budget: { costUsd: 2 }, prices: { m: { input: 1, output: 2 } } } },
      ),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const plan = compilePlan(result.definition, 1);
    expect(plan.nodes.ask).toMatchObject({
      kind: "io",
      timeoutMs: 300_000,
      retry: { maxAttempts: 3 },
      routes: false,
      llm: { models: 3, reviewers: ["r@x.test"], reviewExpiresInMs: 3_600_000 },
    });
    expect(plan.nodes.check?.llm).toBeUndefined();
    expect(plan.llm).toEqual({ budget: { costUsd: 2 }, prices: { m: { input: 1, output: 2 } } });
  });

  it("the support-ticket example validates, with its analyze step an llm node", () => {
    const result = validateDefinition(example);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const plan = compilePlan(result.definition, 1);
    expect(plan.nodes.analyze).toMatchObject({ type: "llm", llm: { models: 1, reviewers: ["triage@example.com"] } });
  });
});
