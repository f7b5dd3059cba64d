import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isBlobRef, refHash } from "../../src/lib/blob-ref";
import { fakeEmbedding, fakeTokenCount } from "../support/fake-embedding";
import { api, register, settle, startManual } from "./helpers";
import { llmServer, llmStep, uniqueModel } from "./llm-helpers";
import { expectError, fireAlarm } from "./support";

let counter = 0;

async function run(
  nodes: { id: string; type: string; config: unknown; retry?: unknown }[],
  input: unknown,
  extra: Record<string, unknown> = {},
) {
  counter += 1;
  const workflowId = `embed-${counter}-${crypto.randomUUID().slice(0, 6)}`;
  const edges = nodes.slice(1).map((node, index) => ({ from: (nodes[index] as { id: string }).id, to: node.id }));
  await register({ id: workflowId, name: "embed test", nodes, edges, ...extra });
  const runId = await startManual(workflowId, input);
  return { runId, report: await settle(runId) };
}

const words = (text: string) => fakeTokenCount(text);

describe("embed node against an OpenAI-compatible /embeddings endpoint", () => {
  it("embeds a list in batches, in order, and reports each batch's tokens and cost", async () => {
    const model = uniqueModel("embed");
    const texts = ["the first chunk", "second", "a third chunk of text", "fourth one", "fifth and last"];
    const { report } = await run(
      [{ id: "vectors", type: "embed", config: { model, input: "input.texts", output: "index", batchSize: 2 } }],
      { texts },
    );
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.index).toEqual({
      provider: "default",
      model,
      dimensions: 8,
      vectors: texts.map((text) => fakeEmbedding(text)),
    });
    const requests = await llmServer.requests(model);
    expect(requests.map((request) => request.body.input)).toEqual([
      texts.slice(0, 2),
      texts.slice(2, 4),
      texts.slice(4),
    ]);
    expect(requests.every((request) => request.path === "/v1/embeddings")).toBe(true);
    const step = llmStep(report, "vectors");
    const batchTokens = [0, 2, 4].map((start) =>
      texts.slice(start, start + 2).reduce((sum, text) => sum + words(text), 0),
    );
    expect(step.llm?.calls).toMatchObject(
      batchTokens.map((tokens, index) => ({
        attempt: 1,
        call: index + 1,
        purpose: "embed",
        provider: "default",
        model,
        outcome: "ok",
        finishReason: null,
        usage: { inputTokens: tokens, outputTokens: 0, totalTokens: tokens },
        // LLM_PRICES for the tests: $1 per million input tokens.
        costUsd: tokens / 1_000_000,
        cached: false,
      })),
    );
    const total = batchTokens.reduce((sum, tokens) => sum + tokens, 0);
    expect(step.llm?.usage).toMatchObject({
      calls: 3,
      inputTokens: total,
      outputTokens: 0,
      costUsd: total / 1_000_000,
    });
    expect(report.llm).toMatchObject({ calls: 3, totalTokens: total });
  });

  it("embeds one string, asking for the dimensions the node sets", async () => {
    const model = uniqueModel("embed-one");
    const { report } = await run(
      [{ id: "vector", type: "embed", config: { model, input: "input.q", output: "query", dimensions: 16 } }],
      { q: "where is my invoice" },
    );
    expect(report.context.query).toMatchObject({ dimensions: 16, vectors: [fakeEmbedding("where is my invoice", 16)] });
    const [request] = await llmServer.requests(model);
    expect(request?.body).toMatchObject({ input: ["where is my invoice"], dimensions: 16 });
  });

  it("embeds an extract step's chunks: ingest, split, embed", async () => {
    const model = uniqueModel("embed-chunks");
    const key = `embed-tests/${crypto.randomUUID()}.txt`;
    const text = Array.from({ length: 40 }, (_, index) => `Sentence number ${index} of the handbook.`).join(" ");
    await env.FILES.put(key, text, { httpMetadata: { contentType: "text/plain" } });
    const { report } = await run(
      [
        {
          id: "read",
          type: "extract",
          config: { file: "input.key", output: "doc", chunk: { size: 400, overlap: 40 } },
        },
        { id: "vectors", type: "embed", config: { model, input: "doc.chunks", output: "index", batchSize: 3 } },
      ],
      { key },
    );
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const chunks = (report.context.doc as { chunks: { text: string }[] }).chunks;
    expect(chunks.length).toBeGreaterThan(3);
    expect((report.context.index as { vectors: number[][] }).vectors).toEqual(
      chunks.map((chunk) => fakeEmbedding(chunk.text)),
    );
    expect(await llmServer.requests(model)).toHaveLength(Math.ceil(chunks.length / 3));
  });

  it("keeps a large result in R2 by reference", async () => {
    const model = uniqueModel("embed-large");
    const texts = Array.from({ length: 60 }, (_, index) => `text ${index}`);
    const { report } = await run(
      [
        {
          id: "vectors",
          type: "embed",
          config: { model, input: "input.texts", output: "index", dimensions: 256, batchSize: 100 },
        },
      ],
      { texts },
    );
    expect(report.status).toBe("success");
    const ref = report.context.index;
    if (!isBlobRef(ref)) throw new Error("the vectors were kept inline");
    const stored = await env.BLOBS.get(`runs/${report.runId}/blobs/${refHash(ref)}`);
    const value = JSON.parse((await stored?.text()) ?? "null") as { vectors: number[][] };
    expect(value.vectors[59]).toEqual(fakeEmbedding("text 59", 256));
  });

  it("fails input that is not text before any call, and never retries it", async () => {
    const model = uniqueModel("embed-bad");
    const cases: [unknown, string][] = [
      [["fine", 42], "item 1"],
      [["fine", "  "], "item 1 is empty"],
      [null, "item 0"],
    ];
    for (const [texts, message] of cases) {
      const { report } = await run(
        [
          {
            id: "vectors",
            type: "embed",
            config: { model, input: "input.texts", output: "index" },
            retry: { maxAttempts: 3 },
          },
        ],
        { texts },
      );
      expect(report.error, JSON.stringify(texts)).toMatchObject({ code: "embed.input_invalid", retryable: false });
      expect(JSON.stringify(report.error)).toContain(message);
      expect(report.steps[0]?.attempts).toBe(1);
    }
    expect(await llmServer.requests(model)).toHaveLength(0);
  });

  it("retries a 5xx with the engine's backoff and reports both attempts' calls", async () => {
    const model = uniqueModel("embed-flaky");
    await llmServer.script(model, [{ status: 503, error: "warming up" }]);
    const { runId, report: waiting } = await run(
      [
        {
          id: "vectors",
          type: "embed",
          config: { model, input: "input.texts", output: "index" },
          retry: { maxAttempts: 2, initialDelay: "1s" },
        },
      ],
      { texts: ["one", "two"] },
    );
    expect(waiting.status).toBe("waiting");
    expect(llmStep(waiting, "vectors").error).toMatchObject({ code: "llm.provider_error", retryable: true });
    expect(await fireAlarm(runId)).toBe(true);
    const done = await settle(runId);
    expect(done.status, JSON.stringify(done.error)).toBe("success");
    expect(llmStep(done, "vectors").llm?.calls.map((call) => [call.attempt, call.outcome, call.costUsd])).toEqual([
      [1, "provider_error", null],
      [2, "ok", 2 / 1_000_000],
    ]);
  });

  it("does not retry a 4xx, and says a provider without embeddings has none", async () => {
    const model = uniqueModel("embed-rejected");
    await llmServer.script(model, [{ status: 400, error: "input too long" }]);
    const { report } = await run(
      [
        {
          id: "vectors",
          type: "embed",
          config: { model, input: "'text'", output: "index" },
          retry: { maxAttempts: 3 },
        },
      ],
      {},
    );
    expect(report.error).toMatchObject({ code: "llm.request_rejected", retryable: false });
    expect(llmStep(report, "vectors").llm?.calls).toMatchObject([
      { outcome: "rejected", error: { code: "llm.request_rejected" } },
    ]);
    const { report: anthropic } = await run(
      [
        {
          id: "vectors",
          type: "embed",
          config: { provider: "claude", model: "any", input: "'text'", output: "index" },
        },
      ],
      {},
    );
    expect(anthropic.error).toMatchObject({ code: "embed.not_supported", retryable: false });
  });

  it("stops before a batch that would break the run's token budget", async () => {
    const model = uniqueModel("embed-budget");
    const { report } = await run(
      [{ id: "vectors", type: "embed", config: { model, input: "input.texts", output: "index", batchSize: 1 } }],
      { texts: ["a".repeat(40), "b".repeat(400)] },
      { llm: { budget: { tokens: 50 } } },
    );
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "llm.budget_exceeded" });
    expect(await llmServer.requests(model)).toHaveLength(1);
  });

  it("refuses a definition without a model or with a batch size out of range, with the path", async () => {
    const bad = (config: Record<string, unknown>) =>
      api("/api/workflows", {
        method: "POST",
        json: { id: "embed-bad", name: "bad", nodes: [{ id: "e", type: "embed", config }], edges: [] },
      });
    const missing = await expectError(await bad({ input: "x", output: "v" }), 422, "definition.config_invalid");
    expect(JSON.stringify(missing.error.details)).toContain("model");
    await expectError(
      await bad({ model: "m", input: "x", output: "v", batchSize: 5_000 }),
      422,
      "definition.config_invalid",
    );
  });
});
