import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../src/engine/plan";
import { backoffDelay, exponentialBackoff, shouldRetry } from "../../src/engine/retry";
import type { ErrorCode } from "../../src/errors";
import {
  commandsOf,
  Driver,
  defaultRetry,
  err,
  executed,
  failure,
  ok,
  plan,
  sleepUntil,
  timersSet,
} from "./plan-fixture";

const policy = (overrides: Partial<RetryPolicy>): RetryPolicy => ({ ...defaultRetry, ...overrides });

describe("exponentialBackoff", () => {
  it.each([
    {
      name: "doubling",
      curve: { initialMs: 10_000, maxMs: 300_000 },
      delays: [10_000, 20_000, 40_000, 80_000, 160_000, 300_000],
    },
    {
      name: "tripling",
      curve: { initialMs: 5_000, factor: 3, maxMs: 300_000 },
      delays: [5_000, 15_000, 45_000, 135_000, 300_000],
    },
    { name: "in seconds", curve: { initialMs: 5, maxMs: 300 }, delays: [5, 10, 20, 40, 80, 160, 300, 300] },
  ])("$name: attempts 1.. give $delays", ({ curve, delays }) => {
    expect(delays.map((_, index) => exponentialBackoff(index + 1, curve))).toEqual(delays);
  });

  it("treats attempt 0 like attempt 1 and stays at the cap for huge attempts", () => {
    const curve = { initialMs: 100, maxMs: 10_000 };
    expect(exponentialBackoff(0, curve)).toBe(100);
    expect(exponentialBackoff(5_000, curve)).toBe(10_000);
  });
});

describe("backoffDelay", () => {
  it.each([
    { name: "fixed", p: policy({ backoff: "fixed", initialDelayMs: 1_000 }), delays: [1_000, 1_000, 1_000, 1_000] },
    {
      name: "fixed, capped",
      p: policy({ backoff: "fixed", initialDelayMs: 1_000, maxDelayMs: 400 }),
      delays: [400, 400, 400],
    },
    {
      name: "exponential",
      p: policy({ backoff: "exponential", initialDelayMs: 100, maxDelayMs: 1_000_000 }),
      delays: [100, 200, 400, 800, 1_600, 3_200],
    },
    {
      name: "exponential, capped at maxDelayMs",
      p: policy({ backoff: "exponential", initialDelayMs: 1_000, maxDelayMs: 5_000 }),
      delays: [1_000, 2_000, 4_000, 5_000, 5_000, 5_000],
    },
  ])("$name, no jitter: attempts 1.. give $delays", ({ p, delays }) => {
    expect(delays.map((_, index) => backoffDelay(p, index + 1, "run:a"))).toEqual(delays);
  });

  it("treats attempt 0 like attempt 1 and does not overflow for huge attempts", () => {
    const p = policy({ backoff: "exponential", initialDelayMs: 100, maxDelayMs: 10_000 });
    expect(backoffDelay(p, 0, "s")).toBe(100);
    expect(backoffDelay(p, 2_000, "s")).toBe(10_000);
  });

  describe("jitter", () => {
    const p = policy({ backoff: "exponential", initialDelayMs: 1_000, maxDelayMs: 30_000, jitter: 0.5 });
    const seeds = Array.from({ length: 40 }, (_, i) => `run-${i}:node`);

    it("is deterministic: the same inputs give the same delay", () => {
      for (const seed of seeds) {
        for (let attempt = 1; attempt <= 5; attempt++) {
          expect(backoffDelay(p, attempt, seed)).toBe(backoffDelay({ ...p }, attempt, `${seed}`));
        }
      }
    });

    it.each([0.1, 0.5, 1])("stays within capped * (1 ± jitter/2) for jitter %s", (jitter) => {
      const jittered = { ...p, jitter };
      for (const seed of seeds) {
        for (let attempt = 1; attempt <= 7; attempt++) {
          const base = Math.min(1_000 * 2 ** (attempt - 1), 30_000);
          const delay = backoffDelay(jittered, attempt, seed);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter / 2)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter / 2)));
        }
      }
    });

    it("actually spreads delays across seeds and attempts", () => {
      const bySeed = new Set(seeds.map((seed) => backoffDelay(p, 1, seed)));
      expect(bySeed.size).toBeGreaterThan(seeds.length / 2);
      const fixed = { ...p, backoff: "fixed" as const };
      const byAttempt = new Set([1, 2, 3, 4, 5].map((attempt) => backoffDelay(fixed, attempt, "same-seed")));
      expect(byAttempt.size).toBeGreaterThan(1);
    });
  });

  it.each([
    { name: "larger than the backoff: wins", retryAfterMs: 7_500, expected: 7_500 },
    { name: "smaller than the backoff: ignored", retryAfterMs: 10, expected: 1_000 },
    { name: "zero: ignored", retryAfterMs: 0, expected: 1_000 },
    { name: "beyond maxDelayMs: still honored", retryAfterMs: 120_000, expected: 120_000 },
  ])("retryAfterMs is a minimum ($name)", ({ retryAfterMs, expected }) => {
    const p = policy({ backoff: "fixed", initialDelayMs: 1_000, maxDelayMs: 60_000 });
    expect(backoffDelay(p, 1, "seed", retryAfterMs)).toBe(expected);
  });

  it("retryAfterMs is a minimum over the jittered delay too", () => {
    const p = policy({ backoff: "fixed", initialDelayMs: 1_000, jitter: 1 });
    for (let i = 0; i < 20; i++) {
      expect(backoffDelay(p, 1, `s${i}`, 1_600)).toBeGreaterThanOrEqual(1_600);
      expect(backoffDelay(p, 1, `s${i}`, 1_600)).toBe(Math.max(1_600, backoffDelay(p, 1, `s${i}`)));
    }
  });
});

describe("shouldRetry", () => {
  const p = policy({ maxAttempts: 3, nonRetryable: ["node.http_status"] });
  it.each<{ name: string; code: ErrorCode; retryable: boolean; attempt: number; expected: boolean }>([
    { name: "retryable, attempts left", code: "node.http_network", retryable: true, attempt: 1, expected: true },
    { name: "retryable, last attempt but one", code: "node.http_network", retryable: true, attempt: 2, expected: true },
    { name: "retryable, attempts exhausted", code: "node.http_network", retryable: true, attempt: 3, expected: false },
    { name: "retryable, past the limit", code: "node.http_network", retryable: true, attempt: 4, expected: false },
    { name: "not retryable", code: "node.http_network", retryable: false, attempt: 1, expected: false },
    {
      name: "retryable but the code is nonRetryable",
      code: "node.http_status",
      retryable: true,
      attempt: 1,
      expected: false,
    },
  ])("$name -> $expected", ({ code, retryable, attempt, expected }) => {
    expect(shouldRetry(p, err(code, { retryable }), attempt)).toBe(expected);
  });

  it("never retries with maxAttempts 1", () => {
    expect(shouldRetry(policy({ maxAttempts: 1 }), err("node.failed", { retryable: true }), 1)).toBe(false);
  });
});

describe("engine retries", () => {
  const retryable = () => failure("node.http_network", { retryable: true });

  it.each([
    {
      name: "fixed",
      retry: { maxAttempts: 4, backoff: "fixed", initialDelayMs: 500 } as const,
      delays: [500, 500, 500],
    },
    {
      name: "exponential with maxDelay cap",
      retry: { maxAttempts: 5, backoff: "exponential", initialDelayMs: 100, maxDelayMs: 350 } as const,
      delays: [100, 200, 350, 350],
    },
  ])("$name: each failure sets a retry timer at now + delay until attempts run out", ({ retry, delays }) => {
    const run = new Driver(plan({ a: [], b: ["a"] }, { retry }), { runId: "r9" });
    run.start(0);
    let now = 10;
    for (const [index, delay] of delays.entries()) {
      const attempt = index + 1;
      const t = run.result("a", retryable(), now);
      expect(t.commands).toEqual([
        {
          type: "set-timer",
          timer: { id: `retry:a:${attempt}`, at: now + delay, kind: "retry", nodeId: "a", attempt },
        },
      ]);
      expect(run.state.status).toBe("waiting");
      expect(run.step("a")).toMatchObject({ status: "waiting", attempts: attempt, retryAt: now + delay });

      const fired = run.fire(run.lastTimer());
      expect(fired.commands).toEqual([
        {
          type: "execute",
          nodeId: "a",
          attempt: attempt + 1,
          idempotencyKey: `r9:a:${attempt + 1}`,
          timeoutMs: 10_000,
        },
      ]);
      expect(run.state.status).toBe("running");
      now += delay + 10;
    }
    // The last allowed attempt fails: no timer, the run fails.
    const last = run.result("a", failure("node.http_network", { retryable: true, message: "last" }), now);
    expect(timersSet(last)).toEqual([]);
    expect(last.commands).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.step("a")).toMatchObject({
      status: "failed",
      attempts: retry.maxAttempts,
      endedAt: now,
      error: { message: "last" },
    });
    expect(run.step("a").history.map((h) => [h.attempt, h.outcome])).toEqual(
      Array.from({ length: retry.maxAttempts }, (_, i) => [i + 1, "failure"]),
    );
    expect(run.state).toMatchObject({
      status: "failed",
      endedAt: now,
      error: { code: "node.http_network", nodeId: "a", message: "last" },
    });
    expect(run.step("b")).toMatchObject({ status: "skipped", skip: { reason: "run.failed" } });
  });

  it("honors retryAfterMs as a minimum delay", () => {
    const run = new Driver(plan({ a: [] }, { retry: { maxAttempts: 3, initialDelayMs: 1_000 } }));
    run.start(0);
    run.result("a", failure("node.http_status", { retryable: true, retryAfterMs: 30_000 }), 100);
    expect(run.lastTimer().at).toBe(30_100);
    run.fire(run.lastTimer());
    run.result("a", failure("node.http_status", { retryable: true, retryAfterMs: 5 }), 30_200);
    expect(run.lastTimer().at).toBe(31_200);
  });

  it("jitter is deterministic per run, node and attempt, and within bounds", () => {
    const retry = { maxAttempts: 3, backoff: "exponential", initialDelayMs: 10_000, jitter: 0.4 } as const;
    const p = plan({ a: [], b: [] }, { retry });
    const timerAt = (runId: string, node: string) => {
      const run = new Driver(p, { runId });
      run.start(0);
      run.result(node, retryable(), 1_000);
      return run.lastTimer().at;
    };
    const ats = ["r1", "r2", "r3", "r4", "r5", "r6"].flatMap((runId) => ["a", "b"].map((node) => timerAt(runId, node)));
    for (const at of ats) {
      expect(at - 1_000).toBeGreaterThanOrEqual(8_000);
      expect(at - 1_000).toBeLessThanOrEqual(12_000);
    }
    expect(new Set(ats).size).toBeGreaterThan(1);
    expect(timerAt("r1", "a")).toBe(timerAt("r1", "a"));
    expect(timerAt("r1", "a") - 1_000).toBe(backoffDelay({ ...defaultRetry, ...retry }, 1, "r1:a"));
  });

  it.each<{ name: string; code: ErrorCode; retryable: boolean }>([
    { name: "a non-retryable error", code: "node.http_network", retryable: false },
    { name: "a retryable error with a nonRetryable code", code: "node.output_invalid", retryable: true },
  ])("$name fails the run immediately, cancelling the rest", ({ code, retryable }) => {
    const p = plan({ a: [], b: [] }, { retry: { maxAttempts: 5, nonRetryable: ["node.output_invalid"] } });
    const run = new Driver(p);
    run.start(0);
    const t = run.result("a", failure(code, { retryable }), 10);
    expect(t.commands).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.statuses()).toEqual({ a: "failed", b: "cancelled" });
    expect(run.step("a")).toMatchObject({ attempts: 1, error: { code, retryable } });
    expect(run.state.error).toMatchObject({ code, nodeId: "a" });
  });

  it("retries use a new idempotency key and read the current context version", () => {
    const p = plan(
      { a: [], b: [] },
      { nodes: { b: { timeoutMs: 4_000, retry: { maxAttempts: 2, initialDelayMs: 100 } } } },
    );
    const run = new Driver(p, { runId: "rk" });
    run.start(0);
    run.result("b", retryable(), 5);
    run.result("a", ok({ a: true }), 6);
    const t = run.fire(run.lastTimerOf("b"), 105);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "b", attempt: 2, idempotencyKey: "rk:b:2", timeoutMs: 4_000 },
    ]);
    expect(t.changedSteps).toEqual(["b"]);
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 2, inputVersion: 1, interruptions: 0 });
    expect(run.step("b").history).toEqual([
      {
        attempt: 1,
        startedAt: 0,
        endedAt: 5,
        outcome: "failure",
        error: expect.objectContaining({ code: "node.http_network" }),
        inputVersion: 0,
      },
      { attempt: 2, startedAt: 105, inputVersion: 1 },
    ]);
  });

  it("keeps the run waiting while only retries are pending, and successors wait for the retried step", () => {
    const run = new Driver(plan({ a: [], b: ["a"] }, { retry: { maxAttempts: 2 } }));
    run.start(0);
    run.result("a", retryable(), 5);
    expect(run.state.status).toBe("waiting");
    expect(run.step("b").status).toBe("pending");
    run.fire(run.lastTimer());
    const t = run.result("a", ok({ done: 1 }), 2_000);
    expect(executed(t)).toEqual(["b"]);
    expect(run.step("a").error).toBeUndefined();
    expect(run.step("a").retryAt).toBeUndefined();
    expect(commandsOf(t.commands, "write-context")).toEqual([
      { type: "write-context", nodeId: "a", version: 1, patch: { done: 1 } },
    ]);
  });

  describe("stale events", () => {
    const setup = () => {
      const run = new Driver(plan({ a: [] }, { retry: { maxAttempts: 3, initialDelayMs: 100 } }));
      run.start(0);
      run.result("a", retryable(), 10);
      return { run, timer: run.lastTimer() };
    };

    it("a timer for the wrong attempt is ignored while waiting", () => {
      const { run, timer } = setup();
      const t = run.fire({ ...timer, id: "retry:a:2", attempt: 2 });
      expect(t.changed).toBe(false);
      expect(run.step("a")).toMatchObject({ status: "waiting", attempts: 1 });
      const early = run.fire({ ...timer, attempt: 0 });
      expect(early.changed).toBe(false);
    });

    it("a wake-kind timer does not end a retry wait", () => {
      const { run, timer } = setup();
      const t = run.fire({ ...timer, kind: "wake", id: "wake:a:1" });
      expect(t.changed).toBe(false);
      expect(run.step("a").status).toBe("waiting");
    });

    it("the same retry timer firing twice starts only one attempt", () => {
      const { run, timer } = setup();
      expect(executed(run.fire(timer))).toEqual(["a"]);
      const again = run.fire(timer, timer.at + 1);
      expect(again.changed).toBe(false);
      expect(again.commands).toEqual([]);
      expect(run.step("a").attempts).toBe(2);
    });

    it("a result from the previous attempt is ignored once the next one runs", () => {
      const { run, timer } = setup();
      run.fire(timer);
      const stale = run.result("a", ok({ from: 1 }), 200, 1);
      expect(stale.changed).toBe(false);
      expect(run.step("a")).toMatchObject({ status: "running", attempts: 2 });
      const fresh = run.result("a", ok({ from: 2 }), 210, 2);
      expect(fresh.changed).toBe(true);
      expect(run.step("a").output).toEqual({ from: 2 });
      expect(run.state.status).toBe("success");
    });

    it("a result arriving while the step waits to retry is ignored", () => {
      const { run } = setup();
      expect(run.result("a", ok(), 20, 1).changed).toBe(false);
      expect(run.result("a", ok(), 20, 2).changed).toBe(false);
    });

    it("a retry timer after the run was cancelled is ignored and the cancel cleared it", () => {
      const { run, timer } = setup();
      const cancel = run.cancel(50);
      expect(commandsOf(cancel.commands, "clear-timer")).toEqual([{ type: "clear-timer", id: timer.id }]);
      expect(run.fire(timer).changed).toBe(false);
    });
  });

  it("a sleeping node that later fails on a retry path keeps timer kinds apart", () => {
    // w sleeps, then a separate node retries: cancelling clears each by its own kind.
    const run = new Driver(plan({ w: [], a: [] }, { nodes: { a: { retry: { maxAttempts: 2 } } } }));
    run.start(0);
    run.result("w", sleepUntil(9_999), 1);
    run.result("a", retryable(), 2);
    const t = run.cancel(3);
    expect(
      commandsOf(t.commands, "clear-timer")
        .map((c) => c.id)
        .sort(),
    ).toEqual(["retry:a:1", "wake:w:1"]);
  });
});
