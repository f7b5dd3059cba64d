import { describe, expect, it } from "vitest";
import { settle } from "./helpers";
import { configuredKeys, llmServer, llmStep, runLlm, uniqueModel } from "./llm-helpers";

const ticketSchema = {
  type: "object",
  required: ["priority", "summary", "confidence"],
  properties: {
    priority: { enum: ["high", "low"] },
    summary: { type: "string", maxLength: 80 },
    confidence: { type: "number", minimum: 0, maximum: 1 },
  },
};

describe("llm node against an OpenAI-compatible server", () => {
  it("renders the prompt, writes the text and reports usage, latency and cost", async () => {
    const model = uniqueModel("text");
    await llmServer.script(model, [{ content: "Hello, Ada!", usage: { input: 12, output: 4 } }]);
    const { runId } = await runLlm(
      [
        {
          id: "greet",
          config: {
            model,
            system: "You greet people.",
            prompt: "Say hello to {{ input.name }}",
            temperature: 0.2,
            maxTokens: 50,
            output: "greeting",
          },
        },
      ],
      { input: { name: "Ada" } },
    );
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.greeting).toBe("Hello, Ada!");
    const step = llmStep(report, "greet");
    expect(step.llm?.calls).toMatchObject([
      {
        attempt: 1,
        call: 1,
        purpose: "request",
        provider: "default",
        model,
        outcome: "ok",
        finishReason: "stop",
        usage: { inputTokens: 12, outputTokens: 4, totalTokens: 16 },
        // LLM_PRICES for the tests: $1 per million input tokens, $2 per million output tokens.
        costUsd: 0.00002,
        cached: false,
      },
    ]);
    expect(step.llm?.calls[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(step.llm?.usage).toMatchObject({ calls: 1, totalTokens: 16, costUsd: 0.00002 });
    expect(report.llm).toMatchObject({ calls: 1, totalTokens: 16, costUsd: 0.00002, budget: null });
    const [request] = await llmServer.requests(model);
    expect(request?.body.messages).toEqual([
      { role: "system", content: "You greet people." },
      { role: "user", content: "Say hello to Ada" },
    ]);
    expect(request?.body).toMatchObject({ temperature: 0.2, max_tokens: 50 });
    expect(request?.headers.authorization).toBe(`Bearer ${configuredKeys()[0]}`);
  });

  it("uses the provider's default model (LLM_MODEL) when the node names none", async () => {
    const { runId } = await runLlm([{ id: "say", config: { prompt: "hi", output: "said" } }]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(llmStep(report, "say").llm?.calls[0]).toMatchObject({ provider: "default", model: "test-default-model" });
  });

  it("validates structured output and lands its fields in the declared keys", async () => {
    const model = uniqueModel("structured");
    const answer = { priority: "high", summary: "Site down", confidence: 0.93 };
    await llmServer.script(model, [{ content: `\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` }]);
    const { runId } = await runLlm([
      {
        id: "analyze",
        config: {
          model,
          prompt: "Ticket: {{ input.text }}",
          schema: ticketSchema,
          output: "analysis",
          fields: { priority: "priority", confidenceScore: "confidence" },
        },
      },
    ]);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context).toMatchObject({ analysis: answer, priority: "high", confidenceScore: 0.93 });
    const [request] = await llmServer.requests(model);
    const system = request?.body.messages?.[0];
    expect(system?.role).toBe("system");
    expect(String(system?.content)).toContain('"enum":["high","low"]');
  });

  it("repairs invalid JSON and schema drift with a prompt that quotes the validation errors", async () => {
    const model = uniqueModel("repair");
    await llmServer.script(model, [
      { content: "Sure! The priority is high." },
      { json: { priority: "urgent", summary: "Site down", confidence: 0.9 } },
      { json: { priority: "high", summary: "Site down", confidence: 0.9 } },
    ]);
    const { runId } = await runLlm([
      { id: "analyze", config: { model, prompt: "Ticket", schema: ticketSchema, output: "analysis" } },
    ]);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.analysis).toEqual({ priority: "high", summary: "Site down", confidence: 0.9 });
    const step = llmStep(report, "analyze");
    expect(step.attempts).toBe(1);
    expect(step.llm?.calls.map((call) => [call.call, call.purpose, call.outcome])).toEqual([
      [1, "request", "invalid_json"],
      [2, "repair", "schema_invalid"],
      [3, "repair", "ok"],
    ]);
    const requests = await llmServer.requests(model);
    expect(requests).toHaveLength(3);
    const second = requests[1]?.body.messages ?? [];
    expect(second.slice(1)).toMatchObject([
      { role: "user", content: "Ticket" },
      { role: "assistant", content: "Sure! The priority is high." },
      { role: "user" },
    ]);
    expect(String(second[3]?.content)).toContain("not JSON");
    const third = requests[2]?.body.messages ?? [];
    expect(String(third.at(-1)?.content)).toMatch(/\/priority: .*high.*low|\/priority/);
  });

  it("fails the step once the repairs are spent, without retrying the same model", async () => {
    const model = uniqueModel("drift");
    const drift = { json: { priority: "urgent", summary: "x", confidence: 0.9 } };
    await llmServer.script(model, [drift, drift, drift]);
    const { runId } = await runLlm([
      {
        id: "analyze",
        config: { model, prompt: "Ticket", schema: ticketSchema, output: "analysis", repairs: 1 },
        retry: { maxAttempts: 3 },
      },
    ]);
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "llm.output_invalid", nodeId: "analyze", retryable: false });
    expect(llmStep(report, "analyze").llm?.calls.map((call) => call.outcome)).toEqual([
      "schema_invalid",
      "schema_invalid",
    ]);
    expect(await llmServer.requests(model)).toHaveLength(2);
  });

  it("speaks Anthropic's messages API through the anthropic adapter", async () => {
    const model = uniqueModel("claude");
    await llmServer.script(model, [{ content: "Bonjour", usage: { input: 7, output: 3 } }]);
    const { runId } = await runLlm([
      { id: "say", config: { provider: "claude", model, system: "Be brief.", prompt: "Say hello", output: "said" } },
    ]);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.said).toBe("Bonjour");
    expect(llmStep(report, "say").llm?.calls[0]).toMatchObject({
      provider: "claude",
      usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 },
      outcome: "ok",
    });
    const [request] = await llmServer.requests(model);
    expect(request?.protocol).toBe("anthropic");
    expect(request?.headers["x-api-key"]).toBe(configuredKeys()[1]);
    expect(JSON.stringify(request?.body.system)).toContain("Be brief.");
  });

  it("replays cached answers: a rerun with the same prompt makes no call and costs nothing", async () => {
    const model = uniqueModel("cache");
    await llmServer.script(model, [{ content: "first answer" }, { content: "second answer" }]);
    const node = { id: "say", config: { model, prompt: "Same {{ input.n }}", output: "said", cache: true } };
    const first = await settle((await runLlm([node], { input: { n: 1 } })).runId);
    const again = await settle((await runLlm([node], { input: { n: 1 } })).runId);
    expect(first.context.said).toBe("first answer");
    expect(again.context.said).toBe("first answer");
    expect(llmStep(again, "say").llm?.calls[0]).toMatchObject({ cached: true, costUsd: 0, outcome: "ok" });
    expect(again.llm).toMatchObject({ calls: 1, cachedCalls: 1, totalTokens: 0, costUsd: 0 });
    expect(await llmServer.requests(model)).toHaveLength(1);
    // A different rendered prompt is a different key.
    const other = await settle((await runLlm([node], { input: { n: 2 } })).runId);
    expect(other.context.said).toBe("second answer");
    // Without `cache`, every run calls the model.
    await llmServer.script(model, [{ content: "uncached" }]);
    const uncached = await settle((await runLlm([{ ...node, config: { ...node.config, cache: false } }])).runId);
    expect(uncached.context.said).toBe("uncached");
  });
});
