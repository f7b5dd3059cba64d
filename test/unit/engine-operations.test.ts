import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events";
import { downstreamOf, planReplay, rebaseOnto, replayState } from "../../src/engine/rebase";
import type { RunState, Timer } from "../../src/engine/state";
import { commandsOf, Driver, executed, failure, ok, type PlanOptions, plan, sleepUntil } from "./plan-fixture";

const pause = (reason?: string): RunEvent => (reason ? { type: "pause", reason } : { type: "pause" });
const unpause: RunEvent = { type: "unpause" };
const retry = (fromVersion?: number): RunEvent =>
  fromVersion === undefined ? { type: "retry" } : { type: "retry", fromVersion };

const chain = plan({ a: [], b: ["a"], c: ["b"] }, { nodes: { b: { retry: { maxAttempts: 2, initialDelayMs: 100 } } } });

describe("pause and unpause", () => {
  it("lets the attempt in flight finish but starts nothing until unpaused", () => {
    const run = new Driver(chain);
    run.start(0);
    const paused = run.send(pause("deploying a fix"), 5);
    expect(paused.commands).toEqual([]);
    expect(run.state).toMatchObject({ status: "paused", paused: { at: 5, reason: "deploying a fix", held: [] } });

    const result = run.result("a", ok({ x: 1 }), 10);
    expect(executed(result)).toEqual([]);
    expect(commandsOf(result.commands, "write-context")).toHaveLength(1);
    expect(run.statuses()).toEqual({ a: "success", b: "pending", c: "pending" });
    expect(run.state.status).toBe("paused");

    const resumed = run.send(unpause, 20);
    expect(executed(resumed)).toEqual(["b"]);
    expect(run.step("b")).toMatchObject({ status: "running", startedAt: 20, inputVersion: 1 });
    expect(run.state.status).toBe("running");
    expect(run.state.paused).toBeUndefined();
    expect(run.state.operations).toEqual([
      { type: "pause", at: 5, reason: "deploying a fix" },
      { type: "unpause", at: 20 },
    ]);
  });

  it.each<{ name: string; arm: (run: Driver) => Timer; node: string; after: string[] }>([
    {
      name: "a retry's backoff",
      node: "b",
      arm(run) {
        run.result("a", ok(), 1);
        run.result("b", failure("node.http_network", { retryable: true }), 2);
        return run.lastTimerOf("b");
      },
      after: ["b"],
    },
    {
      name: "a sleep's wake-up",
      node: "a",
      arm(run) {
        run.result("a", sleepUntil(500), 1);
        return run.lastTimerOf("a");
      },
      after: ["b"],
    },
  ])("holds $name that comes due while paused and fires it on unpause", ({ arm, node, after }) => {
    const run = new Driver(chain);
    run.start(0);
    const timer = arm(run);
    run.send(pause(), 50);
    const fired = run.fire(timer);
    expect(fired.commands).toEqual([]);
    expect(fired.changedSteps).toEqual([]);
    expect(run.state.paused?.held).toEqual([timer]);
    expect(run.step(node).status).toBe("waiting");
    expect(run.state.status).toBe("paused");
    // The same timer delivered twice is held once.
    run.fire(timer);
    expect(run.state.paused?.held).toHaveLength(1);

    const resumed = run.send(unpause, 10_000);
    expect(executed(resumed)).toEqual(after);
    expect(run.state.paused).toBeUndefined();
  });

  it("fires held timers earliest first, and a stale one does nothing", () => {
    const p = plan({ a: [], b: [] }, { retry: { maxAttempts: 3, initialDelayMs: 100 } });
    const run = new Driver(p);
    run.start(0);
    run.result("b", failure("node.http_network", { retryable: true }), 1);
    const bTimer = run.lastTimerOf("b");
    run.result("a", failure("node.http_network", { retryable: true }), 5);
    const aTimer = run.lastTimerOf("a");
    run.send(pause(), 10);
    run.fire(aTimer);
    run.fire(bTimer);
    run.fire({ ...bTimer, id: "retry:b:0", attempt: 0 });
    expect(run.state.paused?.held.map((timer) => timer.id)).toEqual(["retry:a:1", "retry:b:1"]);
    const resumed = run.send(unpause, 1_000);
    expect(executed(resumed)).toEqual(["b", "a"]);
    expect(run.step("a").attempts).toBe(2);
    expect(run.step("b").attempts).toBe(2);
  });

  it("holds the start of a run paused before it started", () => {
    const run = new Driver(plan({ a: [], b: [] }));
    run.send(pause(), 0);
    const started = run.start(1);
    expect(executed(started)).toEqual([]);
    expect(run.state.status).toBe("paused");
    expect(executed(run.send(unpause, 2))).toEqual(["a", "b"]);
  });

  it("ends a paused run whose last attempt succeeds: ending is not starting", () => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    run.send(pause(), 1);
    const t = run.result("a", ok(), 2);
    expect(commandsOf(t.commands, "run-ended")).toEqual([{ type: "run-ended", status: "success" }]);
    expect(run.state.status).toBe("success");
  });

  it("a reviewer's retry while paused waits as a held retry", () => {
    const p = plan(
      { a: [], b: ["a"] },
      {
        nodes: {
          a: { retry: { maxAttempts: 1, escalation: { after: 1, reviewers: ["ops@x.test"], expiresInMs: 1e6 } } },
        },
      },
    );
    const run = new Driver(p);
    run.start(0);
    run.result("a", failure("node.http_status"), 1);
    expect(run.step("a").status).toBe("needs_review");
    run.send(pause(), 2);
    const decided = run.send(
      { type: "decision", nodeId: "a", attempt: 1, round: 1, approver: "ops@x.test", decision: "retry" },
      3,
    );
    expect(executed(decided)).toEqual([]);
    expect(run.step("a")).toMatchObject({ status: "waiting", retryAt: 3 });
    expect(run.state.paused?.held).toEqual([{ id: "retry:a:1", at: 3, kind: "retry", nodeId: "a", attempt: 1 }]);
    const resumed = run.send(unpause, 4);
    expect(resumed.commands).toContainEqual(expect.objectContaining({ type: "execute", nodeId: "a", attempt: 2 }));
  });

  it("a cancelled paused run never starts another node", () => {
    const run = new Driver(chain);
    run.start(0);
    run.result("a", ok(), 1);
    run.result("b", failure("node.http_network", { retryable: true }), 2);
    const timer = run.lastTimerOf("b");
    run.send(pause(), 3);
    run.cancel(4);
    expect(run.state.status).toBe("cancelled");
    for (const event of [
      unpause,
      { type: "timer", timer } as RunEvent,
      pause(),
      retry(),
      { type: "start" } as RunEvent,
    ]) {
      const t = run.send(event, 5);
      expect(t.changed, event.type).toBe(false);
      expect(executed(t)).toEqual([]);
    }
  });

  it.each<{ name: string; setup: (run: Driver) => void; event: RunEvent }>([
    { name: "pause of a paused run", setup: (run) => run.send(pause(), 1), event: pause() },
    { name: "unpause of a run that is not paused", setup: () => {}, event: unpause },
    {
      name: "pause of an ended run",
      setup: (run) => {
        run.result("a", ok(), 1);
        run.result("b", ok(), 2);
        run.result("c", ok(), 3);
      },
      event: pause(),
    },
  ])("ignores $name", ({ setup, event }) => {
    const run = new Driver(chain);
    run.start(0);
    setup(run);
    expect(run.send(event, 10).changed).toBe(false);
  });
});

describe("retry a failed run", () => {
  function failedAtB() {
    const run = new Driver(chain, { runId: "r1" });
    run.start(0);
    run.result("a", ok({ a: 1 }), 10);
    run.result("b", failure("node.http_status", { retryable: false }), 20);
    expect(run.state.status).toBe("failed");
    return run;
  }

  it("starts the failed step again with a new attempt; completed steps stay", () => {
    const run = failedAtB();
    const t = run.send(retry(), 100);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "b", attempt: 2, idempotencyKey: "r1:b:2", timeoutMs: 10_000 },
    ]);
    expect(run.state).toMatchObject({ status: "running", contextVersion: 1 });
    expect(run.state.endedAt).toBeUndefined();
    expect(run.state.error).toBeUndefined();
    expect(run.step("a")).toMatchObject({ status: "success", attempts: 1 });
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 2, attemptBase: 1, inputVersion: 1 });
    expect(run.step("b").error).toBeUndefined();
    expect(run.step("b").history.map((entry) => entry.outcome)).toEqual(["failure", undefined]);
    expect(run.state.operations).toEqual([{ type: "retry", at: 100, nodes: ["b"] }]);

    run.result("b", ok({ b: 2 }), 110);
    expect(executed(run.history.at(-1) as never)).toEqual(["c"]);
    run.result("c", ok(), 120);
    expect(run.state).toMatchObject({ status: "success", contextVersion: 3, endedAt: 120 });
  });

  it("gives the step a fresh retry budget", () => {
    const run = new Driver(chain);
    run.start(0);
    run.result("a", ok(), 1);
    run.result("b", failure("node.http_network", { retryable: true }), 2);
    run.fire(run.lastTimerOf("b"));
    run.result("b", failure("node.http_network", { retryable: true }), 200);
    expect(run.state.status).toBe("failed");
    run.send(retry(), 300);
    run.result("b", failure("node.http_network", { retryable: true }), 301);
    // maxAttempts 2 counts again from the retry: attempt 3 failed, so attempt 4 is due.
    expect(run.step("b")).toMatchObject({ status: "waiting", attempts: 3, retryAt: 401 });
  });

  it("restarts the steps cut short by the failure too, and ignores late results of old attempts", () => {
    const p = plan({ a: [], b: [], c: ["a", "b"] });
    const run = new Driver(p);
    run.start(0);
    run.result("b", failure("node.failed"), 5);
    expect(run.statuses()).toEqual({ a: "cancelled", b: "failed", c: "skipped" });
    const t = run.send(retry(), 10);
    expect(executed(t)).toEqual(["a", "b"]);
    expect(run.step("c").status).toBe("pending");
    expect(run.state.operations?.[0]?.nodes).toEqual(["a", "b"]);
    const late = run.result("a", ok(), 11, 1);
    expect(late.changed).toBe(false);
  });

  it("starts an llm step's model chain again", () => {
    const run = failedAtB();
    const usage = {
      inputTokens: 1,
      outputTokens: 1,
      totalTokens: 2,
      calls: 1,
      cachedCalls: 0,
      costUsd: 0,
      unpricedCalls: 0,
    };
    run.state = {
      ...run.state,
      steps: { ...run.state.steps, b: { ...run.step("b"), llm: { modelIndex: 2, calls: [], usage } } },
    };
    run.send(retry(), 100);
    expect(run.step("b").llm).toEqual({ modelIndex: 0, calls: [], usage });
  });

  it("drops a pause the failed run still carried", () => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    run.send(pause(), 1);
    run.result("a", failure(), 2);
    expect(run.state).toMatchObject({ status: "failed", paused: { at: 1 } });
    expect(executed(run.send(retry(), 3))).toEqual(["a"]);
    expect(run.state.paused).toBeUndefined();
  });

  it.each([
    { name: "a running run", finish: (_run: Driver) => {} },
    {
      name: "a succeeded run",
      finish: (run: Driver) => {
        run.result("a", ok(), 1);
        run.result("b", ok(), 2);
        run.result("c", ok(), 3);
      },
    },
    { name: "a cancelled run", finish: (run: Driver) => run.cancel(1) },
  ])("does nothing to $name", ({ finish }) => {
    const run = new Driver(chain);
    run.start(0);
    finish(run);
    const t = run.send(retry(), 10);
    expect(t.changed).toBe(false);
  });

  it("records the version a retry moved the run from", () => {
    const run = failedAtB();
    const moved = rebaseOnto(plan({ a: [], b: ["a"], c: ["b"] }, { version: 2 }), run.state);
    if (!moved.ok) throw new Error("expected a compatible version");
    run.state = moved.state;
    run.send(retry(1), 50);
    expect(run.state.version).toBe(2);
    expect(run.state.operations).toEqual([{ type: "retry", at: 50, nodes: ["b"], fromVersion: 1, toVersion: 2 }]);
  });
});

describe("rebaseOnto: retrying on a newer version", () => {
  function failedRun(): RunState {
    const run = new Driver(plan({ a: [], b: ["a"], c: ["b"] }));
    run.start(0);
    run.result("a", ok({ a: 1 }), 1);
    run.result("b", failure(), 2);
    return run.state;
  }

  it("keeps completed steps, takes the new version's nodes for the rest, and adds new ones pending", () => {
    const next = plan({ a: [], b: ["a"], c: ["b"], d: ["c"] }, { version: 3, nodes: { b: { type: "http" } } });
    const result = rebaseOnto(next, failedRun());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.state.version).toBe(3);
    expect(result.dropped).toEqual([]);
    expect(Object.keys(result.state.steps)).toEqual(["a", "b", "c", "d"]);
    expect(result.state.steps.a).toMatchObject({ status: "success", output: { a: 1 } });
    expect(result.state.steps.b).toMatchObject({ status: "failed", type: "http" });
    expect(result.state.steps.d).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("drops nodes the new version removed; a retry with nothing left to do ends the run", () => {
    const next = plan({ a: [] }, { version: 2 });
    const result = rebaseOnto(next, failedRun());
    if (!result.ok) throw new Error("expected ok");
    expect(result.dropped).toEqual(["b", "c"]);
    const run = new Driver(next);
    run.state = result.state;
    run.send(retry(1), 9);
    expect(run.state.status).toBe("success");
  });

  it.each<{ name: string; graph: Record<string, string[]>; options: PlanOptions; problem: object }>([
    {
      name: "a completed node removed",
      graph: { b: [], c: ["b"] },
      options: {},
      problem: { nodeId: "a", reason: "removed" },
    },
    {
      name: "a completed node of another type",
      graph: { a: [], b: ["a"], c: ["b"] },
      options: { nodes: { a: { type: "http" } } },
      problem: { nodeId: "a", reason: "type_changed" },
    },
    {
      name: "a new node before a completed one",
      graph: { pre: [], a: ["pre"], b: ["a"], c: ["b"] },
      options: {},
      problem: { nodeId: "a", reason: "new_predecessor", predecessor: "pre" },
    },
  ])("refuses $name", ({ graph, options, problem }) => {
    const result = rebaseOnto(plan(graph, { version: 2, ...options }), failedRun());
    expect(result).toEqual({ ok: false, problems: [problem] });
  });
});

describe("replay from a node", () => {
  /** a -> {b, c} -> d -> e; replaying from b re-executes b, d and e but takes a and c. */
  const diamond = plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: ["d"] });

  function ended(fail?: string): RunState {
    const run = new Driver(diamond, { runId: "orig" });
    run.start(0);
    run.result("a", ok({ a: 1 }), 10);
    run.result("c", ok({ c: 3 }), 20);
    run.result("b", ok({ b: 2 }), 30);
    if (fail === "d") {
      run.result("d", failure(), 40);
      return run.state;
    }
    run.result("d", ok({ d: 4 }), 40);
    run.result("e", ok({ e: 5 }), 50);
    return run.state;
  }

  it("lists what is downstream of a node", () => {
    expect([...downstreamOf(diamond, "b")].sort()).toEqual(["b", "d", "e"]);
  });

  it.each([
    { from: "b", taken: ["a", "c"] },
    { from: "d", taken: ["a", "b", "c"] },
    { from: "a", taken: [] },
  ])("from $from takes $taken from the original", ({ from, taken }) => {
    expect(planReplay(diamond, ended(), from)).toEqual({ ok: true, taken });
  });

  it.each([
    { name: "an unknown node", state: () => ended(), from: "zz", code: "run.node_not_found" },
    { name: "a node after one that never completed", state: () => ended("d"), from: "e", code: "run.replay_not_ready" },
    {
      name: "a run still going",
      state: () => {
        const run = new Driver(diamond);
        run.start(0);
        return run.state;
      },
      from: "a",
      code: "run.not_ended",
    },
  ])("refuses $name with $code", ({ state, from, code }) => {
    expect(planReplay(diamond, state(), from)).toMatchObject({ ok: false, code });
  });

  it("refuses a node the original skipped", () => {
    const routed = plan({ r: [], x: ["r"], y: ["r"] }, { routes: ["r"] });
    const run = new Driver(routed);
    run.start(0);
    run.result("r", ok({}, ["x"]), 1);
    run.result("x", ok(), 2);
    expect(planReplay(routed, run.state, "y")).toMatchObject({ ok: false, code: "run.replay_not_ready" });
  });

  it("starts the new run at the chosen node, with the taken steps settled and pointing back", () => {
    const original = ended("d");
    const planned = planReplay(diamond, original, "d");
    if (!planned.ok) throw new Error(planned.message);
    const run = new Driver(diamond, { runId: "copy" });
    run.state = replayState(diamond, { runId: "copy", createdAt: 100 }, original, {
      fromNode: "d",
      taken: planned.taken,
    });
    expect(run.state.replayOf).toEqual({ runId: "orig", fromNode: "d" });
    expect(run.step("b")).toMatchObject({
      status: "success",
      attempts: 0,
      history: [],
      output: { b: 2 },
      replayedFrom: { runId: "orig", contextVersion: 3, endedAt: 30 },
    });
    const t = run.send({ type: "start-replay" }, 100);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "d", attempt: 1, idempotencyKey: "copy:d:1", timeoutMs: 10_000 },
    ]);
    expect(run.statuses()).toEqual({ a: "success", b: "success", c: "success", d: "running", e: "pending" });
    run.result("d", ok({ d: 9 }), 110);
    run.result("e", ok(), 120);
    expect(run.state.status).toBe("success");
    expect(run.send({ type: "start-replay" }, 130).changed).toBe(false);
  });

  it("keeps a taken branch's route, so the untaken side stays skipped", () => {
    const routed = plan({ r: [], x: ["r"], y: ["r"], z: ["x", "y"] }, { routes: ["r"] });
    const run = new Driver(routed, { runId: "o" });
    run.start(0);
    run.result("r", ok({}, ["x"]), 1);
    run.result("x", failure(), 2);
    const planned = planReplay(routed, run.state, "x");
    if (!planned.ok) throw new Error(planned.message);
    expect(planned.taken).toEqual(["r", "y"]);
    const copy = new Driver(routed, { runId: "c" });
    copy.state = replayState(routed, { runId: "c", createdAt: 5 }, run.state, { fromNode: "x", taken: planned.taken });
    expect(executed(copy.send({ type: "start-replay" }, 5))).toEqual(["x"]);
    expect(copy.step("y")).toMatchObject({ status: "skipped", replayedFrom: { runId: "o" } });
  });
});
