import { describe, expect, it } from "vitest";
import { maxInterruptions } from "../../src/engine/transition";
import { commandsOf, Driver, executed, ok, plan } from "./plan-fixture";

/** A fan-out a -> (b, c) -> d: b and c run at once, as a run would dispatch them through its queue. */
function fanOut() {
  const run = new Driver(plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }, { nodes: { b: { timeoutMs: 555 } } }));
  run.start(0);
  expect(executed(run.result("a", ok({ a: 1 }), 1))).toEqual(["b", "c"]);
  return run;
}

describe("lease-expired", () => {
  it("executes the same attempt again with the same idempotency key, counting an interruption", () => {
    const run = fanOut();
    const t = run.send({ type: "lease-expired", nodeId: "b", attempt: 1 }, 40);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "b", attempt: 1, idempotencyKey: "run-1:b:1", timeoutMs: 555 },
    ]);
    expect(t.changedSteps).toEqual(["b"]);
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 1, interruptions: 1 });
    expect(run.step("b").history).toEqual([{ attempt: 1, startedAt: 1, inputVersion: 1 }]);
    // c is not touched, and the join still waits for both branches.
    expect(run.step("c")).toMatchObject({ status: "running", interruptions: 0 });
    expect(executed(run.result("b", ok({ b: 1 }), 50))).toEqual([]);
    expect(run.step("d").status).toBe("pending");
    expect(executed(run.result("c", ok({ c: 1 }), 60))).toEqual(["d"]);
  });

  it.each([
    { name: "the step already has its result", setup: (run: Driver) => run.result("b", ok({ b: 1 }), 10), attempt: 1 },
    { name: "an older attempt", setup: () => undefined, attempt: 0 },
    { name: "the run was cancelled", setup: (run: Driver) => run.cancel(10), attempt: 1 },
  ])("changes nothing when $name", ({ setup, attempt }) => {
    const run = fanOut();
    setup(run);
    const before = run.state;
    const t = run.send({ type: "lease-expired", nodeId: "b", attempt }, 40);
    expect(t.changed).toBe(false);
    expect(t.commands).toEqual([]);
    expect(run.state).toBe(before);
  });

  it(`fails the step with node.interrupted after ${maxInterruptions} lost dispatches`, () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions; i++) {
      expect(executed(run.send({ type: "lease-expired", nodeId: "b", attempt: 1 }, 10 * i))).toEqual(["b"]);
    }
    const last = run.send({ type: "lease-expired", nodeId: "b", attempt: 1 }, 100);
    expect(executed(last)).toEqual([]);
    expect(commandsOf(last.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.step("b")).toMatchObject({ status: "failed", error: { code: "node.interrupted" } });
    expect(run.step("b").history.at(-1)).toMatchObject({ outcome: "interrupted", endedAt: 100 });
    expect(run.step("c").status).toBe("cancelled");
    expect(run.state.error).toMatchObject({ code: "node.interrupted", nodeId: "b" });
  });
});

describe("resume with leased attempts", () => {
  it("leaves attempts a queue consumer holds to their lease and re-executes the rest", () => {
    const run = fanOut();
    const t = run.send({ type: "resume", leased: ["b"] }, 20);
    expect(executed(t)).toEqual(["c"]);
    expect(run.step("b").interruptions).toBe(0);
    expect(run.step("c").interruptions).toBe(1);
  });

  it("does not fail a worn-out attempt that is out on a lease", () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions; i++) run.send({ type: "lease-expired", nodeId: "b", attempt: 1 }, i);
    const t = run.send({ type: "resume", leased: ["b"] }, 20);
    expect(run.state.status).toBe("running");
    expect(executed(t)).toEqual(["c"]);
  });
});
