import { describe, expect, it } from "vitest";
import { llmAttemptContext } from "../../src/engine/llm";
import type { NodeOutcome } from "../../src/engine/outcome";
import type { Plan, RetryPolicy } from "../../src/engine/plan";
import type { ErrorCode } from "../../src/errors";
import type { LlmCallRecord } from "../../src/llm/types";
import { commandsOf, Driver, err, executed, plan, timersSet } from "./plan-fixture";

/** ask (an llm node with a chain of `models`) -> after */
function llmPlan(
  models: number,
  options: { retry?: Partial<RetryPolicy>; reviewers?: string[]; budget?: { tokens?: number } } = {},
): Plan {
  const base = plan({ ask: [], after: ["ask"] }, { nodes: { ask: { type: "llm", kind: "io", retry: options.retry } } });
  const ask = base.nodes.ask;
  if (!ask) throw new Error("fixture");
  return {
    ...base,
    nodes: {
      ...base.nodes,
      ask: { ...ask, llm: { models, reviewers: options.reviewers ?? [], reviewExpiresInMs: 1_000 } },
    },
    ...(options.budget ? { llm: { budget: options.budget, prices: { "*": { input: 1, output: 1 } } } } : {}),
  };
}

function callOf(attempt: number, tokens = 15, overrides: Partial<LlmCallRecord> = {}): LlmCallRecord {
  return {
    attempt,
    call: 1,
    purpose: "request",
    provider: "default",
    model: "m",
    startedAt: 0,
    latencyMs: 3,
    outcome: "ok",
    finishReason: "stop",
    usage: { inputTokens: tokens - 5, outputTokens: 5, totalTokens: tokens },
    costUsd: tokens / 1_000_000,
    cached: false,
    ...overrides,
  };
}

function failed(code: ErrorCode, retryable: boolean, attempt: number, retryAfterMs?: number): NodeOutcome {
  return {
    type: "failure",
    error: err(code, { retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }),
    llm: {
      calls: [
        callOf(attempt, 0, {
          outcome: retryable ? "provider_error" : "rejected",
          usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
          costUsd: null,
        }),
      ],
    },
  };
}

describe("engine: llm steps", () => {
  it("records every attempt's calls on the step and adds them to the run's totals", () => {
    const run = new Driver(llmPlan(1, { retry: { maxAttempts: 2 } }));
    run.start(0);
    run.result("ask", failed("llm.provider_error", true, 1), 10);
    run.fire(run.lastTimer());
    run.result(
      "ask",
      {
        type: "success",
        output: { out: "x" },
        llm: { calls: [callOf(2, 20), callOf(2, 30, { call: 2, purpose: "repair" })] },
      },
      2_000,
    );
    const step = run.step("ask");
    expect(step.llm?.calls.map((call) => [call.attempt, call.call, call.outcome])).toEqual([
      [1, 1, "provider_error"],
      [2, 1, "ok"],
      [2, 2, "ok"],
    ]);
    expect(step.llm?.usage).toMatchObject({ calls: 3, totalTokens: 50, costUsd: 0.00005, unpricedCalls: 1 });
    expect(run.state.llm).toMatchObject({ calls: 3, totalTokens: 50, costUsd: 0.00005 });
    expect(run.step("ask").status).toBe("success");
  });

  it.each([
    {
      name: "a retryable failure with attempts left retries the same model after the backoff",
      models: 2,
      outcome: failed("llm.rate_limited", true, 1, 7_000),
      expect: { status: "waiting", modelIndex: 0, executed: [], timerAt: 7_010 },
    },
    {
      name: "a failure a retry cannot fix moves to the next model at once",
      models: 2,
      outcome: failed("llm.request_rejected", false, 1),
      expect: { status: "running", modelIndex: 1, executed: ["ask"], timerAt: undefined },
    },
    {
      name: "the last model's unfixable failure fails the run",
      models: 1,
      outcome: failed("llm.output_invalid", false, 1),
      expect: { status: "failed", modelIndex: 0, executed: [], timerAt: undefined },
    },
  ])("$name", ({ models, outcome, expect: expected }) => {
    const run = new Driver(llmPlan(models, { retry: { maxAttempts: 3 } }));
    run.start(0);
    const t = run.result("ask", outcome, 10);
    expect(run.step("ask").status).toBe(expected.status);
    expect(run.step("ask").llm?.modelIndex ?? 0).toBe(expected.modelIndex);
    expect(executed(t)).toEqual(expected.executed);
    expect(timersSet(t)[0]?.at).toBe(expected.timerAt);
  });

  it("gives each model its own retry budget, then fails when the chain is spent", () => {
    const run = new Driver(llmPlan(2, { retry: { maxAttempts: 2, initialDelayMs: 100 } }));
    run.start(0);
    run.result("ask", failed("llm.timeout", true, 1), 10);
    run.fire(run.lastTimer());
    const switched = run.result("ask", failed("llm.timeout", true, 2), 200);
    // Two attempts on model 0 are spent: attempt 3 is model 1's first, with no backoff.
    expect(executed(switched)).toEqual(["ask"]);
    expect(run.step("ask")).toMatchObject({ attempts: 3, attemptBase: 2, llm: { modelIndex: 1 } });
    run.result("ask", failed("llm.timeout", true, 3), 300);
    expect(run.step("ask").status).toBe("waiting");
    run.fire(run.lastTimer());
    run.result("ask", failed("llm.timeout", true, 4), 500);
    expect(run.state.status).toBe("failed");
    expect(run.state.error).toMatchObject({ code: "llm.timeout", nodeId: "ask" });
    expect(run.step("ask").history.map((entry) => entry.outcome)).toEqual(["failure", "failure", "failure", "failure"]);
  });

  it("escalates after the chain when the node has an escalation path", () => {
    const run = new Driver(
      llmPlan(2, {
        retry: { maxAttempts: 1, escalation: { after: 1, reviewers: ["ops@x.test"], expiresInMs: 5_000 } },
      }),
    );
    run.start(0);
    run.result("ask", failed("llm.request_rejected", false, 1), 10);
    expect(run.step("ask").llm?.modelIndex).toBe(1);
    const t = run.result("ask", failed("llm.request_rejected", false, 2), 20);
    expect(run.state.status).toBe("needs_review");
    expect(commandsOf(t.commands, "request-review")).toMatchObject([{ approvers: ["ops@x.test"], purpose: "request" }]);
  });

  describe("the escalate outcome (low confidence, budget)", () => {
    const lowConfidence: NodeOutcome = {
      type: "escalate",
      error: err("llm.low_confidence", { message: "confidence 0.3 is below 0.7" }),
      llm: { calls: [callOf(1, 15, { outcome: "low_confidence" })] },
    };

    it("puts the step in needs_review for the node's reviewers, with retry, skip and fail", () => {
      const run = new Driver(llmPlan(1, { reviewers: ["lead@x.test"] }));
      run.start(0);
      const t = run.result("ask", lowConfidence, 10);
      expect(run.state.status).toBe("needs_review");
      expect(run.step("ask")).toMatchObject({
        status: "needs_review",
        error: { code: "llm.low_confidence" },
        review: {
          kind: "escalation",
          approvers: ["lead@x.test"],
          expiresAt: 1_010,
          request: { decisions: ["retry", "skip", "fail"] },
        },
        history: [{ attempt: 1, outcome: "escalated", error: { code: "llm.low_confidence" } }],
      });
      expect(commandsOf(t.commands, "request-review")).toHaveLength(1);
      expect(run.state.llm).toMatchObject({ calls: 1, totalTokens: 15 });
    });

    it("fails the run with the reason when nobody can review", () => {
      const run = new Driver(llmPlan(1));
      run.start(0);
      run.result("ask", lowConfidence, 10);
      expect(run.state.status).toBe("failed");
      expect(run.state.error).toMatchObject({ code: "llm.low_confidence", nodeId: "ask" });
    });

    it("a reviewer's retry after a budget stop waives the budget for the step and skips the cache", () => {
      const p = llmPlan(1, { reviewers: ["lead@x.test"], budget: { tokens: 10 } });
      const run = new Driver(p);
      run.start(0);
      expect(llmAttemptContext(p, run.state, "ask")).toMatchObject({
        budgetWaived: false,
        fresh: false,
        budget: { tokens: 10 },
      });
      run.result("ask", { type: "escalate", error: err("llm.budget_exceeded") }, 10);
      run.send(
        { type: "decision", nodeId: "ask", attempt: 1, round: 1, approver: "lead@x.test", decision: "retry" },
        20,
      );
      expect(run.step("ask")).toMatchObject({ status: "running", attempts: 2 });
      expect(llmAttemptContext(p, run.state, "ask", { m: { input: 9, output: 9 } })).toMatchObject({
        budgetWaived: true,
        fresh: true,
        prices: { m: { input: 9, output: 9 }, "*": { input: 1, output: 1 } },
      });
    });

    it("a reviewer's retry after low confidence asks afresh but keeps the budget", () => {
      const p = llmPlan(1, { reviewers: ["lead@x.test"] });
      const run = new Driver(p);
      run.start(0);
      run.result("ask", lowConfidence, 10);
      run.send(
        { type: "decision", nodeId: "ask", attempt: 1, round: 1, approver: "lead@x.test", decision: "retry" },
        20,
      );
      expect(llmAttemptContext(p, run.state, "ask")).toMatchObject({ budgetWaived: false, fresh: true });
    });
  });
});
