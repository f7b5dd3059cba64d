import { describe, expect, it } from "vitest";
import { sendingNumber } from "../../src/engine/lease";
import { maxInterruptions } from "../../src/engine/transition";
import { commandsOf, Driver, executed, failure, ok, plan } from "./plan-fixture";

/** A fan-out a -> (b, c) -> d: b and c run at once, as a run would dispatch them through its queue. */
function fanOut() {
  const run = new Driver(plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }, { nodes: { b: { timeoutMs: 555 } } }));
  run.start(0);
  expect(executed(run.result("a", ok({ a: 1 }), 1))).toEqual(["b", "c"]);
  return run;
}

describe("lease-expired of a claimed attempt", () => {
  it("executes the same attempt again with the same idempotency key, counting an interruption", () => {
    const run = fanOut();
    const t = run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, 40);
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
    const t = run.send({ type: "lease-expired", nodeId: "b", attempt, claimed: true }, 40);
    expect(t.changed).toBe(false);
    expect(t.commands).toEqual([]);
    expect(run.state).toBe(before);
  });

  it(`fails the step with node.interrupted after ${maxInterruptions} claimed attempts went quiet`, () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions; i++) {
      expect(executed(run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, 10 * i))).toEqual([
        "b",
      ]);
    }
    const last = run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, 100);
    expect(executed(last)).toEqual([]);
    expect(commandsOf(last.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.step("b")).toMatchObject({ status: "failed", error: { code: "node.interrupted" } });
    expect(run.step("b").history.at(-1)).toMatchObject({ outcome: "interrupted", endedAt: 100 });
    expect(run.step("c").status).toBe("cancelled");
    expect(run.state.error).toMatchObject({ code: "node.interrupted", nodeId: "b" });
  });
});

describe("lease-expired of a message no consumer claimed", () => {
  it("sends the same attempt again without counting an interruption or spending an attempt", () => {
    const run = fanOut();
    const t = run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: false }, 40);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "b", attempt: 1, idempotencyKey: "run-1:b:1", timeoutMs: 555 },
    ]);
    expect(t.changedSteps).toEqual(["b"]);
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 1, interruptions: 0, resends: 1 });
    expect(run.step("b").history).toEqual([{ attempt: 1, startedAt: 1, inputVersion: 1 }]);
  });

  it(`never fails the step, however often the message is lost (${maxInterruptions * 3} times here)`, () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions * 3; i++) {
      const t = run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: false }, 10 * i);
      expect(executed(t), `loss ${i}`).toEqual(["b"]);
    }
    expect(run.state.status).toBe("running");
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 1, interruptions: 0, resends: 9 });
    expect(executed(run.result("b", ok({ b: 1 }), 200))).toEqual([]);
    expect(executed(run.result("c", ok({ c: 1 }), 210))).toEqual(["d"]);
    expect(run.step("b")).toMatchObject({ status: "success", attempts: 1 });
  });

  it("lost messages and real interruptions are counted apart; each sending gets a higher number", () => {
    const run = fanOut();
    const sendings = [sendingNumber(run.step("b"))];
    const events = [false, true, false, true, false, true];
    for (const [i, claimed] of events.entries()) {
      run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed }, 10 + i);
      sendings.push(sendingNumber(run.step("b")));
    }
    expect(sendings).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(run.step("b")).toMatchObject({ status: "running", interruptions: 3, resends: 3 });
    // The next claimed attempt that goes quiet is the one too many.
    run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, 100);
    expect(run.step("b")).toMatchObject({ status: "failed", error: { code: "node.interrupted" } });
  });

  it("a new attempt starts with no resends", () => {
    const run = new Driver(plan({ a: [], b: [] }, { nodes: { b: { retry: { maxAttempts: 2 } } } }));
    run.start(0);
    run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: false }, 5);
    run.result("b", failure("node.http_network", { retryable: true }), 6);
    run.fire(run.lastTimer());
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 2, interruptions: 0 });
    expect(sendingNumber(run.step("b"))).toBe(0);
  });
});

describe("resume with attempts out on the steps queue", () => {
  it("resends attempts whose messages no consumer claimed, without counting them", () => {
    const run = fanOut();
    const t = run.send({ type: "resume", unclaimed: ["b", "c"] }, 20);
    expect(executed(t)).toEqual(["b", "c"]);
    for (const nodeId of ["b", "c"]) {
      expect(run.step(nodeId)).toMatchObject({ status: "running", attempts: 1, interruptions: 0, resends: 1 });
    }
  });

  it(`restarts around unclaimed messages never fail the run (${maxInterruptions + 1} restarts here)`, () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions + 1; i++) {
      expect(executed(run.send({ type: "resume", unclaimed: ["b"], leased: ["c"] }, 10 * i))).toEqual(["b"]);
    }
    expect(run.state.status).toBe("running");
    expect(run.step("b")).toMatchObject({ interruptions: 0, resends: maxInterruptions + 1 });
  });

  it("a worn-out attempt out on the queue unclaimed is resent, not failed", () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions; i++) {
      run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, i);
    }
    const t = run.send({ type: "resume", unclaimed: ["b"], leased: ["c"] }, 20);
    expect(run.state.status).toBe("running");
    expect(executed(t)).toEqual(["b"]);
    expect(run.step("b")).toMatchObject({ interruptions: maxInterruptions, resends: 1 });
  });

  it("leaves attempts a queue consumer holds to their lease and re-executes the rest", () => {
    const run = fanOut();
    const t = run.send({ type: "resume", leased: ["b"] }, 20);
    expect(executed(t)).toEqual(["c"]);
    expect(run.step("b").interruptions).toBe(0);
    expect(run.step("c").interruptions).toBe(1);
  });

  it("does not fail a worn-out attempt that is out on a lease", () => {
    const run = fanOut();
    for (let i = 1; i <= maxInterruptions; i++)
      run.send({ type: "lease-expired", nodeId: "b", attempt: 1, claimed: true }, i);
    const t = run.send({ type: "resume", leased: ["b"] }, 20);
    expect(run.state.status).toBe("running");
    expect(executed(t)).toEqual(["c"]);
  });
});
