import { describe, expect, it } from "vitest";
import { planReplay, rebaseOnto, replayState } from "../../src/engine/rebase";
import { Driver, executed, failure, ok, plan } from "./plan-fixture";

/**
 * Steps a run never reached because it failed or was cancelled: settled as `skipped` with the
 * reason, run again by a retry, and never taken by a replay as if they had completed.
 */

/** r routes to x or y; both lead to j, then k. */
const routed = plan({ r: [], x: ["r"], y: ["r"], j: ["x", "y"], k: ["j"] }, { routes: ["r"] });

function failedAtX(): Driver {
  const run = new Driver(routed, { runId: "orig" });
  run.start(0);
  run.result("r", ok({}, ["x"]), 1);
  run.result("x", failure("node.http_status"), 2);
  return run;
}

describe("steps a run ended before reaching", () => {
  it.each([
    {
      name: "failed",
      end: (run: Driver) => run.result("x", failure("node.http_status"), 2),
      reason: "run.failed",
    },
    { name: "cancelled", end: (run: Driver) => run.cancel(2, "not needed"), reason: "run.cancelled" },
  ])("a $name run settles them as skipped with the reason, in the same transition", ({ end, reason }) => {
    const run = new Driver(routed);
    run.start(0);
    run.result("r", ok({}, ["x"]), 1);
    const t = end(run);
    expect(run.statuses()).toMatchObject({ r: "success", y: "skipped", j: "skipped", k: "skipped" });
    for (const nodeId of ["j", "k"]) {
      expect(run.step(nodeId)).toMatchObject({ status: "skipped", endedAt: 2, attempts: 0, skip: { reason } });
    }
    // The checkpoint is written from the changed steps: the skipped ones must be among them.
    expect(t.changedSteps).toEqual(expect.arrayContaining(["j", "k"]));
    // y was skipped by the branch, not by the run's end: it keeps no reason.
    expect(run.step("y").skip).toBeUndefined();
  });

  it("a run cancelled before it started skips every step", () => {
    const run = new Driver(plan({ a: [], b: ["a"] }));
    run.cancel(5);
    expect(run.statuses()).toEqual({ a: "skipped", b: "skipped" });
    expect(run.step("a").skip).toEqual({ reason: "run.cancelled" });
  });

  it("a successful run has nothing to skip with a reason", () => {
    const run = new Driver(routed);
    run.start(0);
    run.result("r", ok({}, ["x"]), 1);
    run.result("x", ok(), 2);
    run.result("j", ok(), 3);
    run.result("k", ok(), 4);
    expect(run.state.status).toBe("success");
    expect(Object.values(run.state.steps).filter((step) => step.skip)).toEqual([]);
  });
});

describe("retrying a run that left steps skipped", () => {
  it("runs the steps the failure kept from running, and leaves the branch's skip alone", () => {
    const run = failedAtX();
    const retried = run.send({ type: "retry" }, 10);
    expect(executed(retried)).toEqual(["x"]);
    expect(run.state.operations?.at(-1)?.nodes).toEqual(["x"]);
    expect(run.step("j")).toMatchObject({ status: "pending" });
    expect(run.step("j").skip).toBeUndefined();
    expect(run.step("j").endedAt).toBeUndefined();
    expect(run.step("y")).toMatchObject({ status: "skipped" });

    expect(executed(run.result("x", ok(), 11))).toEqual(["j"]);
    expect(executed(run.result("j", ok(), 12))).toEqual(["k"]);
    run.result("k", ok(), 13);
    expect(run.statuses()).toEqual({ r: "success", x: "success", y: "skipped", j: "success", k: "success" });
    expect(run.state.status).toBe("success");
  });

  it("moves onto a version that removed a node the run never reached", () => {
    const next = plan({ r: [], x: ["r"], y: ["r"], j: ["x", "y"] }, { routes: ["r"], version: 2 });
    const moved = rebaseOnto(next, failedAtX().state);
    if (!moved.ok) throw new Error(JSON.stringify(moved.problems));
    expect(moved.dropped).toEqual(["k"]);
  });
});

describe("replaying a run that left steps skipped", () => {
  it("does not take them from the original, even outside what the replay starts from", () => {
    // a fails while b is still running: c, after b, never ran and is not downstream of a.
    const parallel = plan({ a: [], b: [], c: ["b"] });
    const original = new Driver(parallel, { runId: "orig" });
    original.start(0);
    original.result("a", failure(), 1);
    expect(original.step("c")).toMatchObject({ status: "skipped", skip: { reason: "run.failed" } });
    const planned = planReplay(parallel, original.state, "a");
    expect(planned).toEqual({ ok: true, taken: [] });
    const copy = new Driver(parallel, { runId: "copy" });
    copy.state = replayState(parallel, { runId: "copy", createdAt: 5 }, original.state, { fromNode: "a", taken: [] });
    expect(executed(copy.send({ type: "start-replay" }, 5))).toEqual(["a", "b"]);
    copy.result("a", ok(), 6);
    expect(executed(copy.result("b", ok(), 7))).toEqual(["c"]);
    copy.result("c", ok(), 8);
    expect(copy.state.status).toBe("success");
  });

  it("may start at a step a cancel kept from running once its predecessors completed", () => {
    const run = new Driver(plan({ a: [], b: ["a"] }), { runId: "orig" });
    run.start(0);
    run.send({ type: "pause" }, 1);
    run.result("a", ok(), 2);
    run.cancel(3);
    expect(run.step("b")).toMatchObject({ status: "skipped", skip: { reason: "run.cancelled" } });
    expect(planReplay(run.plan, run.state, "b")).toEqual({ ok: true, taken: ["a"] });
  });
});
