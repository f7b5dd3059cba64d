import { describe, expect, it } from "vitest";
import type { Deferral, NodeOutcome } from "../../src/engine/outcome";
import { commandsOf, Driver, executed, failure, ok, plan, timersSet } from "./plan-fixture";

function deferred(until: number, reason: Deferral["reason"] = "rate", limit = "llm:default"): NodeOutcome {
  return { type: "deferred", deferral: { until, limit, reason } };
}

const io = { kind: "io" as const, type: "llm" };

describe("deferred attempts", () => {
  it("waits on a timer and runs the same attempt again, spending no attempt", () => {
    const run = new Driver(plan({ a: [], b: ["a"] }, { nodes: { a: { ...io, retry: { maxAttempts: 1 } } } }));
    run.start(0);
    const waiting = run.result("a", deferred(30_000), 10);
    expect(run.step("a")).toMatchObject({
      status: "waiting",
      attempts: 1,
      deferred: { until: 30_000, limit: "llm:default", reason: "rate" },
    });
    expect(run.state.status).toBe("waiting");
    expect(timersSet(waiting)).toEqual([{ id: "defer:a:1", at: 30_000, kind: "defer", nodeId: "a", attempt: 1 }]);
    expect(executed(waiting)).toEqual([]);

    const again = run.fire(run.lastTimer());
    expect(commandsOf(again.commands, "execute")).toEqual([
      { type: "execute", nodeId: "a", attempt: 1, idempotencyKey: "run-1:a:1", timeoutMs: 10_000 },
    ]);
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 1, deferred: undefined });
    // Deferred twice, then it went: still one attempt, its history entry counts the waits.
    run.result("a", deferred(60_000, "circuit", "pager"), 30_001);
    run.fire(run.lastTimer());
    run.result("a", ok({ x: 1 }), 60_500);
    expect(run.step("a")).toMatchObject({ status: "success", attempts: 1 });
    expect(run.step("a").history).toEqual([
      { attempt: 1, startedAt: 0, inputVersion: 0, deferrals: 2, endedAt: 60_500, outcome: "success" },
    ]);
    expect(run.step("b").status).toBe("running");
  });

  it("does not count against retries: a failure after deferrals is the attempt's first", () => {
    const run = new Driver(
      plan({ a: [] }, { nodes: { a: { ...io, retry: { maxAttempts: 2, initialDelayMs: 500 } } } }),
    );
    run.start(0);
    for (let n = 1; n <= 3; n += 1) {
      run.result("a", deferred(n * 1_000), n * 1_000 - 1);
      run.fire(run.lastTimer());
    }
    run.result("a", failure("node.http_status", { retryable: true }), 3_100);
    expect(run.step("a")).toMatchObject({ status: "waiting", attempts: 1, retryAt: 3_600 });
    run.fire(run.lastTimer());
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 2 });
  });

  it("goes at the next alarm when the time given is already past", () => {
    const run = new Driver(plan({ a: [] }, { nodes: { a: io } }));
    run.start(0);
    const waiting = run.result("a", deferred(5), 100);
    expect(timersSet(waiting)[0]?.at).toBe(100);
    expect(run.step("a").deferred?.until).toBe(100);
  });

  it("is cancelled with the run, and its timer cleared", () => {
    const run = new Driver(plan({ a: [] }, { nodes: { a: io } }));
    run.start(0);
    run.result("a", deferred(30_000), 10);
    const cancelled = run.cancel(20);
    expect(commandsOf(cancelled.commands, "clear-timer")).toEqual([{ type: "clear-timer", id: "defer:a:1" }]);
    expect(run.step("a")).toMatchObject({ status: "cancelled", deferred: undefined });
    // A timer that fires late anyway changes nothing.
    expect(run.fire({ id: "defer:a:1", at: 30_000, kind: "defer", nodeId: "a", attempt: 1 }).changed).toBe(false);
  });

  it("is held while the run is paused and goes when it is unpaused", () => {
    const run = new Driver(plan({ a: [] }, { nodes: { a: io } }));
    run.start(0);
    run.result("a", deferred(30_000), 10);
    run.send({ type: "pause" }, 20);
    const timer = run.lastTimerOf("a");
    const held = run.fire(timer);
    expect(executed(held)).toEqual([]);
    expect(run.state.paused?.held).toEqual([timer]);
    const unpaused = run.send({ type: "unpause" }, 40_000);
    expect(executed(unpaused)).toEqual(["a"]);
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 1 });
  });

  it("ignores a deferral for an attempt that is not running any more", () => {
    const run = new Driver(plan({ a: [] }, { nodes: { a: io } }));
    run.start(0);
    run.result("a", ok(), 5);
    expect(run.result("a", deferred(30_000), 6, 1).changed).toBe(false);
  });
});
