import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { settle } from "./helpers";
import { decide, linkFor, outbox } from "./human-helpers";
import { configuredKeys, llmServer, llmStep, runLlm, uniqueModel } from "./llm-helpers";
import { fireAlarm, runObject } from "./support";

const schema = {
  type: "object",
  required: ["label", "confidence"],
  properties: { label: { type: "string" }, confidence: { type: "number" } },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("llm failures: timeouts, 429, 5xx, fallback, escalation", () => {
  it("times out a slow reply and retries it on the run's alarm", async () => {
    const model = uniqueModel("slow");
    await llmServer.script(model, [{ delayMs: 3_000, content: "too late" }, { content: "in time" }]);
    const { runId } = await runLlm([
      {
        id: "say",
        config: { model, prompt: "hi", output: "said", timeout: "200ms" },
        retry: { maxAttempts: 2, initialDelay: "1s" },
      },
    ]);
    const waiting = await settle(runId);
    expect(waiting.status).toBe("waiting");
    const step = llmStep(waiting, "say");
    expect(step.error).toMatchObject({ code: "llm.timeout", retryable: true });
    expect(step.llm?.calls[0]).toMatchObject({ attempt: 1, outcome: "timeout", error: { code: "llm.timeout" } });
    expect(step.llm?.calls[0]?.latencyMs).toBeGreaterThanOrEqual(150);
    expect(step.history[0]).toMatchObject({ attempt: 1, outcome: "failure" });
    expect(await fireAlarm(runId)).toBe(true);
    const done = await settle(runId);
    expect(done.status, JSON.stringify(done.error)).toBe("success");
    expect(done.context.said).toBe("in time");
    expect(llmStep(done, "say").llm?.calls.map((call) => [call.attempt, call.outcome])).toEqual([
      [1, "timeout"],
      [2, "ok"],
    ]);
  });

  it("honours Retry-After on a 429 as the floor of the backoff", async () => {
    const model = uniqueModel("limited");
    await llmServer.script(model, [
      { status: 429, error: "slow down", headers: { "retry-after": "30" } },
      { content: "done" },
    ]);
    const { runId } = await runLlm([
      { id: "say", config: { model, prompt: "hi", output: "said" }, retry: { maxAttempts: 2, initialDelay: "1s" } },
    ]);
    const waiting = await settle(runId);
    const step = llmStep(waiting, "say");
    expect(step.error).toMatchObject({ code: "llm.rate_limited", retryable: true, retryAfterMs: 30_000 });
    expect(step.llm?.calls[0]).toMatchObject({ outcome: "rate_limited" });
    const failedAt = step.history[0]?.endedAt ?? 0;
    // The retry timer sits 30 s after the failure: the 1 s backoff alone would be sooner.
    const retryAt = await runInDurableObject(
      runObject(runId),
      (_instance, state) =>
        state.storage.sql.exec<{ at: number }>("SELECT at FROM timers WHERE id = ?", "retry:say:1").one().at,
    );
    expect(retryAt - failedAt).toBe(30_000);
    expect(await fireAlarm(runId)).toBe(true);
    const done = await settle(runId);
    expect(done.status).toBe("success");
    expect(llmStep(done, "say").history.map((entry) => entry.outcome)).toEqual(["failure", "success"]);
  });

  it("retries 5xx, then falls back through the ordered models, across providers", async () => {
    const primary = uniqueModel("primary");
    const spare = uniqueModel("spare");
    const last = uniqueModel("last");
    await llmServer.script(primary, [
      { status: 500, error: "boom" },
      { status: 503, error: "still down" },
    ]);
    await llmServer.script(spare, [{ status: 400, error: "model does not exist" }]);
    await llmServer.script(last, [{ content: "from the last model" }]);
    const { runId } = await runLlm([
      {
        id: "say",
        config: {
          model: primary,
          fallback: [{ provider: "backup", model: spare }, last],
          prompt: "hi",
          output: "said",
        },
        retry: { maxAttempts: 2, initialDelay: "1s" },
      },
    ]);
    expect((await settle(runId)).status).toBe("waiting");
    expect(await fireAlarm(runId)).toBe(true);
    // Attempt 2 (503) spends the primary's attempts; the spare answers 400 (not retryable) and
    // the last model answers: no alarm in between, fallback is immediate.
    const done = await settle(runId);
    expect(done.status, JSON.stringify(done.error)).toBe("success");
    expect(done.context.said).toBe("from the last model");
    const step = llmStep(done, "say");
    expect(step.llm?.modelIndex).toBe(2);
    expect(step.llm?.calls.map((call) => [call.attempt, call.provider, call.model, call.outcome])).toEqual([
      [1, "default", primary, "provider_error"],
      [2, "default", primary, "provider_error"],
      [3, "backup", spare, "rejected"],
      [4, "default", last, "ok"],
    ]);
    expect((await llmServer.requests(spare))[0]?.path).toBe("/backup/v1/chat/completions");
  });

  it("escalates to needs_review when the whole chain failed, and fails without an escalation path", async () => {
    const a = uniqueModel("a");
    const b = uniqueModel("b");
    await llmServer.script(a, [
      { status: 400, error: "bad request" },
      { status: 400, error: "bad request" },
    ]);
    await llmServer.script(b, [
      { status: 404, error: "no such model" },
      { status: 404, error: "no such model" },
    ]);
    const config = { model: a, fallback: [b], prompt: "hi", output: "said" };
    const escalated = await settle(
      (
        await runLlm([{ id: "say", config, retry: { escalateAfter: 1 } }], {
          extra: { reviewers: ["ops@example.com"] },
        })
      ).runId,
    );
    expect(escalated.status).toBe("needs_review");
    expect(llmStep(escalated, "say")).toMatchObject({
      status: "needs_review",
      error: { code: "llm.request_rejected" },
      review: { kind: "escalation", approvers: ["ops@example.com"] },
    });
    const failed = await settle((await runLlm([{ id: "say", config }])).runId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "llm.request_rejected", nodeId: "say" });
  });

  it("fails fast with an actionable llm.not_configured when a provider or its secret is missing", async () => {
    const missingSecret = await settle(
      (await runLlm([{ id: "say", config: { provider: "keyless", model: "m", prompt: "hi", output: "said" } }])).runId,
    );
    expect(missingSecret.status).toBe("failed");
    expect(missingSecret.error).toMatchObject({ code: "llm.not_configured", retryable: false });
    expect((missingSecret.error as { message: string }).message).toContain("MISSING_TEST_SECRET");
    const unknown = await settle(
      (await runLlm([{ id: "say", config: { provider: "nowhere", model: "m", prompt: "hi", output: "said" } }])).runId,
    );
    expect((unknown.error as { message: string }).message).toContain("LLM_PROVIDERS");
    expect(llmStep(unknown, "say").attempts).toBe(1);
  });

  it("never shows a key: not in errors, the report, the context or the logs", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    const openai = uniqueModel("echo");
    const claude = uniqueModel("echo-claude");
    await llmServer.script(openai, [{ status: 401, error: "invalid key", echoAuth: true }]);
    await llmServer.script(claude, [{ status: 403, error: "forbidden", echoAuth: true }]);
    const first = await settle(
      (await runLlm([{ id: "say", config: { model: openai, prompt: "hi", output: "said" } }])).runId,
    );
    const second = await settle(
      (await runLlm([{ id: "say", config: { provider: "claude", model: claude, prompt: "hi", output: "said" } }]))
        .runId,
    );
    // The server did get the keys, and quoted them back.
    expect((await llmServer.requests(openai))[0]?.headers.authorization).toContain(configuredKeys()[0]);
    expect(first.error).toMatchObject({ code: "llm.request_rejected" });
    expect((first.error as { message: string }).message).toContain("[redacted]");
    expect((first.error as { message: string }).message).toContain("LLM_API_KEY");
    expect(second.error).toMatchObject({ code: "llm.request_rejected" });
    const everything = JSON.stringify([first, second]) + lines.join("\n");
    expect(lines.some((line) => line.includes("attempt failed"))).toBe(true);
    for (const key of configuredKeys()) expect(everything).not.toContain(key);
  });
});

describe("llm confidence and budget: the review paths", () => {
  it("sends a low-confidence answer to needs_review; the reviewer's skip writes the output", async () => {
    const model = uniqueModel("unsure");
    await llmServer.script(model, [{ json: { label: "refund", confidence: 0.4 } }]);
    const { runId } = await runLlm(
      [
        {
          id: "classify",
          config: {
            model,
            prompt: "classify",
            schema,
            output: "label",
            confidence: { field: "confidence", threshold: 0.7 },
          },
        },
        { id: "after", type: "transform", config: { set: { done: "label.label" } } },
      ],
      { edges: [{ from: "classify", to: "after" }], extra: { reviewers: ["lead@example.com"] } },
    );
    const review = await settle(runId);
    expect(review.status).toBe("needs_review");
    expect(llmStep(review, "classify")).toMatchObject({
      status: "needs_review",
      error: { code: "llm.low_confidence", details: { confidence: 0.4, threshold: 0.7 } },
      review: { kind: "escalation", approvers: ["lead@example.com"] },
      history: [{ attempt: 1, outcome: "escalated" }],
    });
    expect(llmStep(review, "classify").llm?.calls[0]).toMatchObject({ outcome: "low_confidence" });
    const [message] = await outbox(runId);
    expect(message?.text).toContain('"label":"refund"');
    const link = await linkFor(runId, "lead@example.com");
    const response = await decide(link, {
      decision: "skip",
      output: JSON.stringify({ label: { label: "complaint", confidence: 1 } }),
    });
    expect(response.status).toBe(200);
    const done = await settle(runId);
    expect(done.status).toBe("success");
    expect(done.context.done).toBe("complaint");
  });

  it("takes the named low-confidence edge instead, and skips it when confident", async () => {
    const model = uniqueModel("edge");
    await llmServer.script(model, [
      { json: { label: "refund", confidence: 0.2 } },
      { json: { label: "refund", confidence: 0.95 } },
    ]);
    const nodes = [
      {
        id: "classify",
        config: {
          model,
          prompt: "classify",
          schema,
          output: "label",
          confidence: { field: "confidence", threshold: 0.7, to: "check" },
        },
      },
      { id: "check", type: "transform", config: { set: { path: "'checked by a person'" } } },
      { id: "auto", type: "transform", config: { set: { path: "'automatic'" } } },
    ];
    const edges = [
      { from: "classify", to: "check" },
      { from: "classify", to: "auto" },
    ];
    const low = await settle((await runLlm(nodes, { edges })).runId);
    expect(low.status).toBe("success");
    expect(low.context.path).toBe("checked by a person");
    expect(llmStep(low, "auto").status).toBe("skipped");
    const high = await settle((await runLlm(nodes, { edges })).runId);
    expect(high.context.path).toBe("automatic");
    expect(llmStep(high, "check").status).toBe("skipped");
  });

  it("stops at needs_review before a call that would break the run's budget; a retry lets it through", async () => {
    const first = uniqueModel("spend");
    const second = uniqueModel("over");
    await llmServer.script(first, [{ content: "spent", usage: { input: 60, output: 20 } }]);
    await llmServer.script(second, [{ content: "allowed" }]);
    const { runId } = await runLlm(
      [
        { id: "one", config: { model: first, prompt: "hi", output: "a", maxTokens: 20 } },
        { id: "two", config: { model: second, prompt: "x".repeat(40), output: "b", maxTokens: 50 } },
      ],
      {
        edges: [{ from: "one", to: "two" }],
        extra: { reviewers: ["budget@example.com"], llm: { budget: { tokens: 100 } } },
      },
    );
    const stopped = await settle(runId);
    expect(stopped.status).toBe("needs_review");
    expect(llmStep(stopped, "two")).toMatchObject({
      status: "needs_review",
      error: { code: "llm.budget_exceeded", details: { limit: "tokens", budget: 100, spent: 80, estimate: 60 } },
    });
    expect(stopped.llm).toMatchObject({ totalTokens: 80, budget: { tokens: 100 } });
    expect(await llmServer.requests(second)).toHaveLength(0);
    const response = await decide(await linkFor(runId, "budget@example.com"), { decision: "retry" });
    expect(response.status).toBe(200);
    const done = await settle(runId);
    expect(done.status, JSON.stringify(done.error)).toBe("success");
    expect(done.context.b).toBe("allowed");
    expect(done.llm).toMatchObject({ calls: 2, totalTokens: 95 });
  });

  it("fails with llm.budget_exceeded when nobody can review", async () => {
    const { runId } = await runLlm([{ id: "one", config: { prompt: "hi", output: "a", maxTokens: 500 } }], {
      extra: { llm: { budget: { costUsd: 0.0001 }, prices: { "*": { input: 100, output: 100 } } } },
    });
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "llm.budget_exceeded", details: { limit: "costUsd" } });
  });
});
