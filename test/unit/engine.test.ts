import { describe, expect, it } from "vitest";
import type { Command, RunEvent } from "../../src/engine/events";
import type { RunState, StepStatus } from "../../src/engine/state";
import { initialRunState, maxInterruptions, transition } from "../../src/engine/transition";
import { deepFreeze } from "../../src/lib/json";
import { commandsOf, Driver, err, executed, failure, ok, plan, sleepUntil, statuses, timersSet } from "./plan-fixture";

const sorted = (values: readonly string[]) => [...values].sort();

describe("plan fixture", () => {
  it("derives succs and a topological order with ties in definition order", () => {
    const p = plan({ d: ["b", "c"], a: [], c: ["a"], b: ["a"] }, { routes: ["a"] });
    expect(p.order).toEqual(["a", "c", "b", "d"]);
    expect(p.nodes.a?.succs).toEqual(["c", "b"]);
    expect(p.nodes.d?.preds).toEqual(["b", "c"]);
    expect(p.nodes.a?.routes).toBe(true);
    expect(p.nodes.b?.routes).toBe(false);
  });

  it("rejects unknown predecessors and cycles", () => {
    expect(() => plan({ a: ["x"] })).toThrow(/unknown predecessor/);
    expect(() => plan({ a: ["b"], b: ["a"] })).toThrow(/cycle/);
  });
});

describe("initialRunState", () => {
  it("creates a pending run with one pending step per node, in plan order", () => {
    const p = plan({ a: [], b: ["a"] }, { workflowId: "wf-x", version: 7 });
    const state = initialRunState(p, { runId: "r", createdAt: 42 });
    expect(state).toEqual({
      runId: "r",
      workflowId: "wf-x",
      version: 7,
      status: "pending",
      createdAt: 42,
      updatedAt: 42,
      contextVersion: 0,
      steps: {
        a: { nodeId: "a", type: "transform", status: "pending", attempts: 0, interruptions: 0, history: [] },
        b: { nodeId: "b", type: "transform", status: "pending", attempts: 0, interruptions: 0, history: [] },
      },
    });
    expect(Object.keys(state.steps)).toEqual(["a", "b"]);
  });

  it("an empty plan succeeds as soon as it starts", () => {
    const run = new Driver(plan({}));
    const t = run.start(5);
    expect(run.state.status).toBe("success");
    expect(run.state.endedAt).toBe(5);
    expect(t.commands).toEqual([{ type: "run-ended", status: "success" }]);
  });
});

describe("linear chain a -> b -> c", () => {
  const p = plan({ a: [], b: ["a"], c: ["b"] }, { nodes: { a: { timeoutMs: 1_500 }, b: { timeoutMs: 2_500 } } });

  it("executes in order, versions the context 1..3 and ends in success", () => {
    const run = new Driver(p, { runId: "run-7", createdAt: 50 });

    const started = run.start(100);
    expect(started.changed).toBe(true);
    expect(started.commands).toEqual([
      { type: "execute", nodeId: "a", attempt: 1, idempotencyKey: "run-7:a:1", timeoutMs: 1_500 },
    ]);
    expect(started.changedSteps).toEqual(["a"]);
    expect(run.state).toMatchObject({
      status: "running",
      startedAt: 100,
      updatedAt: 100,
      createdAt: 50,
      contextVersion: 0,
    });
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 1, startedAt: 100, inputVersion: 0 });
    expect(run.statuses()).toEqual({ a: "running", b: "pending", c: "pending" });

    // Each row: the node finishing, when, and exactly what the engine must do about it.
    const table: {
      node: string;
      now: number;
      output: Record<string, number>;
      commands: Command[];
      changed: string[];
    }[] = [
      {
        node: "a",
        now: 110,
        output: { x: 1 },
        commands: [
          { type: "write-context", nodeId: "a", version: 1, patch: { x: 1 } },
          { type: "execute", nodeId: "b", attempt: 1, idempotencyKey: "run-7:b:1", timeoutMs: 2_500 },
        ],
        changed: ["a", "b"],
      },
      {
        node: "b",
        now: 120,
        output: { y: 2 },
        commands: [
          { type: "write-context", nodeId: "b", version: 2, patch: { y: 2 } },
          { type: "execute", nodeId: "c", attempt: 1, idempotencyKey: "run-7:c:1", timeoutMs: 10_000 },
        ],
        changed: ["b", "c"],
      },
      {
        node: "c",
        now: 130,
        output: { z: 3 },
        commands: [
          { type: "write-context", nodeId: "c", version: 3, patch: { z: 3 } },
          { type: "run-ended", status: "success" },
        ],
        changed: ["c"],
      },
    ];
    for (const [index, row] of table.entries()) {
      const t = run.result(row.node, ok(row.output), row.now);
      expect(t.commands, row.node).toEqual(row.commands);
      expect(t.changedSteps, row.node).toEqual(row.changed);
      expect(run.state.contextVersion).toBe(index + 1);
      expect(run.state.updatedAt).toBe(row.now);
      expect(run.step(row.node)).toMatchObject({
        status: "success",
        endedAt: row.now,
        contextVersion: index + 1,
        output: row.output,
        history: [{ attempt: 1, startedAt: row.now - 10, endedAt: row.now, outcome: "success" }],
      });
    }
    expect(run.step("b").inputVersion).toBe(1);
    expect(run.step("c").inputVersion).toBe(2);
    expect(run.state).toMatchObject({ status: "success", endedAt: 130, startedAt: 100 });
    expect(run.state.error).toBeUndefined();
  });

  it("ignores a second start, and a result for a step that has not started", () => {
    const run = new Driver(p);
    run.start(0);
    expect(run.start(1).changed).toBe(false);
    const t = run.result("b", ok(), 2, 1);
    expect(t.changed).toBe(false);
    expect(t.commands).toEqual([]);
  });

  it("ignores a duplicate result for an attempt that already succeeded", () => {
    const run = new Driver(p);
    run.start(0);
    run.result("a", ok({ x: 1 }), 10);
    const dup = run.result("a", ok({ x: 2 }), 11, 1);
    expect(dup.changed).toBe(false);
    expect(dup.commands).toEqual([]);
    expect(run.state.contextVersion).toBe(1);
  });
});

describe("parallel entries and joins", () => {
  it("starts every entry node at once", () => {
    const run = new Driver(plan({ a: [], b: [], c: ["a", "b"] }));
    const t = run.start(0);
    expect(executed(t)).toEqual(["a", "b"]);
    expect(sorted(t.changedSteps)).toEqual(["a", "b"]);

    const first = run.result("b", ok({ b: 1 }), 10);
    expect(executed(first)).toEqual([]);
    expect(run.statuses()).toEqual({ a: "running", b: "success", c: "pending" });
    expect(run.state.status).toBe("running");

    const second = run.result("a", ok({ a: 1 }), 20);
    expect(executed(second)).toEqual(["c"]);
    expect(run.step("c").inputVersion).toBe(2);
  });

  it.each([{ order: ["b", "c"] }, { order: ["c", "b"] }])(
    "diamond: d waits for both b and c (finishing $order)",
    ({ order }) => {
      const run = new Driver(plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }));
      run.start(0);
      const afterA = run.result("a", ok(), 10);
      expect(executed(afterA)).toEqual(["b", "c"]);
      const [first, second] = order as [string, string];

      const t1 = run.result(first, ok(), 20);
      expect(executed(t1)).toEqual([]);
      expect(run.step("d").status).toBe("pending");

      const t2 = run.result(second, ok(), 30);
      expect(executed(t2)).toEqual(["d"]);
      expect(run.step("d")).toMatchObject({ status: "running", startedAt: 30, inputVersion: 3 });

      const end = run.result("d", ok(), 40);
      expect(commandsOf(end.commands, "run-ended")).toEqual([{ type: "run-ended", status: "success" }]);
      expect(run.state.contextVersion).toBe(4);
    },
  );
});

describe("branch routing", () => {
  const diamond = plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }, { routes: ["a"] });

  type Row = {
    name: string;
    route: string[];
    afterRoute: Record<string, StepStatus>;
    /** Remaining nodes to finish in order, and what each must start. */
    finishing: [string, string[]][];
  };
  const table: Row[] = [
    {
      name: "route [b]: c skipped, d runs after b",
      route: ["b"],
      afterRoute: { a: "success", b: "running", c: "skipped", d: "pending" },
      finishing: [
        ["b", ["d"]],
        ["d", []],
      ],
    },
    {
      name: "route [c]: b skipped, d runs after c",
      route: ["c"],
      afterRoute: { a: "success", b: "skipped", c: "running", d: "pending" },
      finishing: [
        ["c", ["d"]],
        ["d", []],
      ],
    },
    {
      name: "route [b, c]: both run, d after both",
      route: ["b", "c"],
      afterRoute: { a: "success", b: "running", c: "running", d: "pending" },
      finishing: [
        ["c", []],
        ["b", ["d"]],
        ["d", []],
      ],
    },
    {
      name: "route []: b, c and the join d are all skipped",
      route: [],
      afterRoute: { a: "success", b: "skipped", c: "skipped", d: "skipped" },
      finishing: [],
    },
    {
      name: "route to a node that is not a successor: treated as no route",
      route: ["zzz"],
      afterRoute: { a: "success", b: "skipped", c: "skipped", d: "skipped" },
      finishing: [],
    },
  ];

  it.each(table)("$name", ({ route, afterRoute, finishing }) => {
    const run = new Driver(diamond);
    run.start(0);
    const t = run.result("a", ok({}, route), 10);
    expect(run.statuses()).toEqual(afterRoute);
    expect(run.step("a").route).toEqual(route);
    expect(sorted(t.changedSteps)).toEqual(
      sorted(Object.entries(afterRoute).flatMap(([id, status]) => (status === "pending" ? [] : [id]))),
    );
    for (const [id, status] of Object.entries(afterRoute)) {
      if (status === "skipped") expect(run.step(id)).toMatchObject({ endedAt: 10, attempts: 0, history: [] });
    }
    let now = 20;
    for (const [node, starts] of finishing) {
      const step = run.result(node, ok(), now);
      expect(executed(step), `after ${node}`).toEqual(starts);
      now += 10;
    }
    expect(run.state.status).toBe("success");
    // Skipped steps write no context: one version per successful step.
    const successes = Object.values(run.state.steps).filter((s) => s.status === "success").length;
    expect(run.state.contextVersion).toBe(successes);
    expect(
      commandsOf(
        run.history.flatMap((h) => h.commands),
        "write-context",
      ),
    ).toHaveLength(successes);
  });

  it("an empty route ends the run in the same transition", () => {
    const run = new Driver(diamond);
    run.start(0);
    const t = run.result("a", ok({}, []), 10);
    expect(t.commands).toEqual([
      { type: "write-context", nodeId: "a", version: 1, patch: {} },
      { type: "run-ended", status: "success" },
    ]);
    expect(run.state).toMatchObject({ status: "success", endedAt: 10 });
  });

  it("propagates a skip through a chain after the untaken branch, then joins", () => {
    const p = plan({ a: [], b: ["a"], c1: ["a"], c2: ["c1"], c3: ["c2"], d: ["b", "c3"], e: ["d"] }, { routes: ["a"] });
    const run = new Driver(p);
    run.start(0);
    const t = run.result("a", ok({}, ["b"]), 10);
    expect(executed(t)).toEqual(["b"]);
    expect(run.statuses()).toEqual({
      a: "success",
      b: "running",
      c1: "skipped",
      c2: "skipped",
      c3: "skipped",
      d: "pending",
      e: "pending",
    });
    expect(sorted(t.changedSteps)).toEqual(["a", "b", "c1", "c2", "c3"]);
    expect(executed(run.result("b", ok(), 20))).toEqual(["d"]);
    expect(executed(run.result("d", ok(), 30))).toEqual(["e"]);
    run.result("e", ok(), 40);
    expect(run.state.status).toBe("success");
  });

  it("a skip that reaches the end of the graph leaves the run running until the taken side finishes", () => {
    const p = plan({ a: [], b: ["a"], c: ["a"], c2: ["c"] }, { routes: ["a"] });
    const run = new Driver(p);
    run.start(0);
    run.result("a", ok({}, ["b"]), 10);
    expect(run.statuses()).toEqual({ a: "success", b: "running", c: "skipped", c2: "skipped" });
    expect(run.state.status).toBe("running");
    run.result("b", ok(), 20);
    expect(run.state.status).toBe("success");
  });

  it("a route on a non-routing node is recorded but does not gate its successors", () => {
    const run = new Driver(plan({ a: [], b: ["a"], c: ["a"] }));
    run.start(0);
    const t = run.result("a", ok({}, ["b"]), 10);
    expect(executed(t)).toEqual(["b", "c"]);
  });

  it("nested routing: a skipped router skips its own successors", () => {
    const p = plan({ a: [], r: ["a"], x: ["r"], y: ["r"], z: ["a"] }, { routes: ["a", "r"] });
    const run = new Driver(p);
    run.start(0);
    run.result("a", ok({}, ["z"]), 10);
    expect(run.statuses()).toEqual({ a: "success", r: "skipped", x: "skipped", y: "skipped", z: "running" });
  });
});

describe("wait (sleep outcome)", () => {
  const p = plan({ w: [], b: ["w"] });

  it("sets a wake timer at `until`, waits, and succeeds when it fires", () => {
    const run = new Driver(p);
    run.start(0);
    const slept = run.result("w", sleepUntil(5_000), 100);
    expect(slept.commands).toEqual([
      { type: "set-timer", timer: { id: "wake:w:1", at: 5_000, kind: "wake", nodeId: "w", attempt: 1 } },
    ]);
    expect(slept.changedSteps).toEqual(["w"]);
    expect(run.state.status).toBe("waiting");
    expect(run.state.contextVersion).toBe(0);
    expect(run.step("w")).toMatchObject({
      status: "waiting",
      wakeAt: 5_000,
      history: [{ attempt: 1, startedAt: 0, endedAt: 100, outcome: "sleep" }],
    });

    const woke = run.fire(run.lastTimer());
    expect(woke.commands).toEqual([
      { type: "write-context", nodeId: "w", version: 1, patch: {} },
      { type: "execute", nodeId: "b", attempt: 1, idempotencyKey: "run-1:b:1", timeoutMs: 10_000 },
    ]);
    expect(run.state.status).toBe("running");
    expect(run.step("w")).toMatchObject({ status: "success", endedAt: 5_000, contextVersion: 1 });
    expect(run.step("w").wakeAt).toBeUndefined();
    expect(run.step("b").inputVersion).toBe(1);
  });

  it.each([
    { name: "until == now", until: 100 },
    { name: "until < now", until: 50 },
  ])("succeeds at once when $name", ({ until }) => {
    const run = new Driver(p);
    run.start(0);
    const t = run.result("w", sleepUntil(until), 100);
    expect(timersSet(t)).toEqual([]);
    expect(executed(t)).toEqual(["b"]);
    expect(run.step("w")).toMatchObject({ status: "success", endedAt: 100, contextVersion: 1 });
    expect(run.step("w").history).toEqual([
      { attempt: 1, startedAt: 0, endedAt: 100, outcome: "sleep", inputVersion: 0 },
    ]);
    expect(run.state.status).toBe("running");
  });

  it("derives run status: running beats waiting", () => {
    const run = new Driver(plan({ w: [], b: [] }));
    run.start(0);
    run.result("w", sleepUntil(1_000), 10);
    expect(run.state.status).toBe("running");
    run.result("b", ok(), 20);
    expect(run.state.status).toBe("waiting");
    run.fire(run.lastTimerOf("w"));
    expect(run.state.status).toBe("success");
  });

  it.each([
    {
      name: "a retry-kind timer",
      timer: { id: "retry:w:1", at: 5_000, kind: "retry" as const, nodeId: "w", attempt: 1 },
    },
    {
      name: "a timer for another attempt",
      timer: { id: "wake:w:2", at: 5_000, kind: "wake" as const, nodeId: "w", attempt: 2 },
    },
  ])("ignores $name while sleeping", ({ timer }) => {
    const run = new Driver(p);
    run.start(0);
    run.result("w", sleepUntil(5_000), 100);
    const t = run.fire(timer);
    expect(t.changed).toBe(false);
    expect(run.step("w").status).toBe("waiting");
  });

  it("ignores the wake timer firing twice", () => {
    const run = new Driver(p);
    run.start(0);
    run.result("w", sleepUntil(5_000), 100);
    const timer = run.lastTimer();
    run.fire(timer);
    const again = run.fire(timer, 5_001);
    expect(again.changed).toBe(false);
    expect(again.commands).toEqual([]);
  });
});

describe("failure while another branch is in flight", () => {
  type Row = {
    name: string;
    /** Brings b into its state before a fails. */
    setup: (run: Driver) => void;
    clears: Command[];
  };
  const table: Row[] = [
    { name: "b running", setup: () => {}, clears: [] },
    {
      name: "b sleeping",
      setup: (run) => run.result("b", sleepUntil(9_000), 5),
      clears: [{ type: "clear-timer", id: "wake:b:1" }],
    },
    {
      name: "b waiting to retry",
      setup: (run) => run.result("b", failure("node.http_network", { retryable: true }), 5),
      clears: [{ type: "clear-timer", id: "retry:b:1" }],
    },
  ];

  it.each(table)("$name: b is cancelled and its timer cleared", ({ setup, clears }) => {
    const p = plan({ a: [], b: [], c: ["a", "b"] }, { nodes: { b: { retry: { maxAttempts: 3 } } } });
    const run = new Driver(p);
    run.start(0);
    setup(run);
    const t = run.result("a", failure("node.http_status", { message: "boom" }), 10);
    expect(t.commands).toEqual([...clears, { type: "run-ended", status: "failed" }]);
    expect(sorted(t.changedSteps)).toEqual(["a", "b", "c"]);
    expect(run.statuses()).toEqual({ a: "failed", b: "cancelled", c: "skipped" });
    expect(run.step("c")).toMatchObject({ endedAt: 10, skip: { reason: "run.failed" } });
    expect(run.step("b")).toMatchObject({ endedAt: 10 });
    expect(run.step("b").wakeAt).toBeUndefined();
    expect(run.step("b").retryAt).toBeUndefined();
    expect(run.state).toMatchObject({
      status: "failed",
      endedAt: 10,
      error: { code: "node.http_status", message: "boom", retryable: false, nodeId: "a" },
    });
    expect(run.step("a")).toMatchObject({ status: "failed", endedAt: 10, error: { code: "node.http_status" } });

    // b's late result, and its timer, change nothing.
    expect(run.result("b", ok(), 20, 1).changed).toBe(false);
    expect(run.fire({ id: "wake:b:1", at: 9_000, kind: "wake", nodeId: "b", attempt: 1 }).changed).toBe(false);
  });
});

describe("cancel", () => {
  it("cancels the run, its in-flight steps and clears their timers", () => {
    const run = new Driver(plan({ a: [], w: [], d: ["a", "w"] }));
    run.start(0);
    run.result("w", sleepUntil(10_000), 5);
    const t = run.cancel(50, "user asked");
    expect(t.commands).toEqual([
      { type: "clear-timer", id: "wake:w:1" },
      { type: "run-ended", status: "cancelled" },
    ]);
    expect(run.state).toMatchObject({
      status: "cancelled",
      endedAt: 50,
      updatedAt: 50,
      error: { code: "run.cancelled", message: "user asked" },
    });
    expect(run.statuses()).toEqual({ a: "cancelled", w: "cancelled", d: "skipped" });
    expect(run.step("d")).toMatchObject({ endedAt: 50, skip: { reason: "run.cancelled" } });
    expect(sorted(t.changedSteps)).toEqual(["a", "d", "w"]);
    // The attempt that was in flight is closed, so the trace shows how it ended.
    expect(run.state.steps.a?.history).toEqual([
      { attempt: 1, startedAt: 0, endedAt: 50, outcome: "cancelled", inputVersion: 0 },
    ]);
  });

  it("uses a default reason", () => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    run.cancel(1);
    expect(run.state.error).toMatchObject({ code: "run.cancelled", message: "cancelled" });
  });

  it("cancels a run that never started", () => {
    const run = new Driver(plan({ a: [] }));
    const t = run.cancel(3);
    expect(t.commands).toEqual([{ type: "run-ended", status: "cancelled" }]);
    expect(run.state.status).toBe("cancelled");
    expect(run.start(4).changed).toBe(false);
  });

  it.each<{ name: string; event: RunEvent }>([
    { name: "node result", event: { type: "node-result", nodeId: "a", attempt: 1, outcome: ok() } },
    { name: "failure result", event: { type: "node-result", nodeId: "a", attempt: 1, outcome: failure() } },
    {
      name: "timer",
      event: { type: "timer", timer: { id: "wake:w:1", at: 10_000, kind: "wake", nodeId: "w", attempt: 1 } },
    },
    { name: "resume", event: { type: "resume" } },
    { name: "start", event: { type: "start" } },
    { name: "second cancel", event: { type: "cancel" } },
  ])("ignores a later $name", ({ event }) => {
    const run = new Driver(plan({ a: [], w: [] }));
    run.start(0);
    run.result("w", sleepUntil(10_000), 5);
    run.cancel(50);
    const before = run.state;
    const t = run.send(event, 60);
    expect(t.changed).toBe(false);
    expect(t.commands).toEqual([]);
    expect(t.state).toBe(before);
  });

  it.each([
    { name: "succeeded", finish: (run: Driver) => run.result("a", ok(), 10), status: "success" },
    { name: "failed", finish: (run: Driver) => run.result("a", failure(), 10), status: "failed" },
    { name: "cancelled", finish: (run: Driver) => run.cancel(10), status: "cancelled" },
  ])("changes nothing on a $name run", ({ finish, status }) => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    finish(run);
    expect(run.state.status).toBe(status);
    const t = run.cancel(20);
    expect(t).toEqual({ state: run.history.at(-2)?.state, commands: [], changedSteps: [], changed: false });
    expect(run.state.endedAt).toBe(10);
  });
});

describe("resume", () => {
  it("re-executes a running step with the same attempt and idempotency key", () => {
    const run = new Driver(plan({ a: [], b: ["a"] }, { nodes: { a: { timeoutMs: 777 } } }));
    run.start(0);
    const t = run.resume(100);
    expect(t.commands).toEqual([
      { type: "execute", nodeId: "a", attempt: 1, idempotencyKey: "run-1:a:1", timeoutMs: 777 },
    ]);
    expect(t.changedSteps).toEqual(["a"]);
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 1, interruptions: 1, startedAt: 0 });
    expect(run.step("a").history).toEqual([{ attempt: 1, startedAt: 0, inputVersion: 0 }]);
    // The re-executed attempt's result is accepted as usual.
    expect(executed(run.result("a", ok(), 110))).toEqual(["b"]);
  });

  it(`fails the step with node.interrupted once it was interrupted ${maxInterruptions} times`, () => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    for (let i = 1; i <= maxInterruptions; i++) {
      const t = run.resume(i * 10);
      expect(executed(t), `resume ${i}`).toEqual(["a"]);
      expect(run.step("a").interruptions).toBe(i);
      expect(run.state.status).toBe("running");
    }
    const last = run.resume(100);
    expect(last.commands).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.step("a")).toMatchObject({ status: "failed", endedAt: 100, error: { code: "node.interrupted" } });
    expect(run.step("a").history).toEqual([
      {
        attempt: 1,
        startedAt: 0,
        endedAt: 100,
        outcome: "interrupted",
        error: expect.objectContaining({ code: "node.interrupted" }),
        inputVersion: 0,
      },
    ]);
    expect(run.state).toMatchObject({
      status: "failed",
      endedAt: 100,
      error: { code: "node.interrupted", nodeId: "a" },
    });
  });

  it("a worn-out step fails the run once: other running steps are cancelled, not re-executed", () => {
    const run = new Driver(plan({ a: [], b: [], c: [] }));
    run.start(0);
    for (let i = 1; i <= maxInterruptions; i++) run.resume(i);
    // c finished meanwhile; a and b are still running and both worn out.
    run.result("c", ok(), 5);
    const t = run.resume(100);
    expect(executed(t)).toEqual([]);
    expect(commandsOf(t.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(run.state.status).toBe("failed");
    expect(run.state.error?.code).toBe("node.interrupted");
    const failed = Object.values(run.state.steps).filter((s) => s.status === "failed");
    expect(failed).toHaveLength(1);
    expect(run.state.error?.nodeId).toBe(failed[0]?.nodeId);
    expect(run.statuses().c).toBe("success");
    expect(sorted([run.statuses().a ?? "", run.statuses().b ?? ""])).toEqual(["cancelled", "failed"]);
  });

  it.each([
    { name: "worn-out step first", graph: { a: [], b: [] } },
    { name: "worn-out step last", graph: { b: [], a: [] } },
  ])("a worn-out step is failed before any other step is re-executed ($name)", ({ graph }) => {
    const run = new Driver(plan(graph, { nodes: { b: { retry: { maxAttempts: 2 } } } }));
    run.start(0);
    for (let i = 1; i <= maxInterruptions; i++) run.resume(i);
    // Give b a fresh attempt so only a is worn out.
    run.result("b", failure("node.http_network", { retryable: true }), 5);
    expect(run.step("b").status).toBe("waiting");
    const retried = run.fire(run.lastTimer());
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 2, interruptions: 0 });
    expect(executed(retried)).toEqual(["b"]);

    const t = run.resume(100);
    expect(executed(t)).toEqual([]);
    expect(run.statuses()).toEqual({ a: "failed", b: "cancelled" });
    expect(run.state.error).toMatchObject({ code: "node.interrupted", nodeId: "a" });
  });

  it.each<{ name: string; graph: Record<string, string[]>; executes: string[] }>([
    { name: "several running steps", graph: { a: [], b: [] }, executes: ["a", "b"] },
    { name: "a running step next to a sleeping one", graph: { a: [], w: [] }, executes: ["a"] },
  ])("re-executes only running steps: $name", ({ graph, executes }) => {
    const run = new Driver(plan(graph));
    run.start(0);
    if ("w" in graph) run.result("w", sleepUntil(1_000), 5);
    const t = run.resume(10);
    expect(executed(t)).toEqual(executes);
    expect(timersSet(t)).toEqual([]);
  });

  it("starts a run that was still pending", () => {
    const run = new Driver(plan({ a: [], b: [] }));
    const t = run.resume(7);
    expect(executed(t)).toEqual(["a", "b"]);
    expect(run.state).toMatchObject({ status: "running", startedAt: 7 });
  });

  it.each([
    { name: "only waiting steps", prepare: (run: Driver) => run.result("a", sleepUntil(1_000), 5), status: "waiting" },
    { name: "a terminal run", prepare: (run: Driver) => run.result("a", ok(), 5), status: "success" },
  ])("changes nothing with $name", ({ prepare, status }) => {
    const run = new Driver(plan({ a: [] }));
    run.start(0);
    prepare(run);
    expect(run.state.status).toBe(status);
    const t = run.resume(10);
    expect(t.changed).toBe(false);
    expect(t.commands).toEqual([]);
  });
});

describe("purity", () => {
  it("never mutates a deep-frozen input state across a whole run", () => {
    const p = deepFreeze(
      plan(
        { a: [], b: ["a"], c: ["a"], d: ["b", "c"] },
        { routes: ["a"], nodes: { b: { retry: { maxAttempts: 2 } } } },
      ),
    );
    let state: RunState = initialRunState(p, { runId: "pure", createdAt: 0 });
    const events: [RunEvent, number][] = [
      [{ type: "start" }, 1],
      [{ type: "resume" }, 2],
      [{ type: "node-result", nodeId: "a", attempt: 1, outcome: ok({ k: [1, { n: 2 }] }, ["b", "c"]) }, 3],
      [{ type: "node-result", nodeId: "b", attempt: 1, outcome: failure("node.failed", { retryable: true }) }, 4],
      [{ type: "node-result", nodeId: "c", attempt: 1, outcome: sleepUntil(50) }, 5],
      [{ type: "timer", timer: { id: "retry:b:1", at: 1_004, kind: "retry", nodeId: "b", attempt: 1 } }, 1_004],
      [{ type: "node-result", nodeId: "b", attempt: 1, outcome: ok() }, 1_005], // stale
      [{ type: "timer", timer: { id: "wake:c:1", at: 50, kind: "wake", nodeId: "c", attempt: 1 } }, 1_006],
      [{ type: "node-result", nodeId: "b", attempt: 2, outcome: ok() }, 1_007],
      [{ type: "cancel" }, 1_008],
    ];
    const seen: RunState[] = [];
    for (const [event, now] of events) {
      const input = deepFreeze(state);
      const snapshot = JSON.stringify(input);
      const result = transition(p, input, event, now);
      expect(JSON.stringify(input)).toBe(snapshot);
      // Earlier states stay exactly as they were too.
      for (const old of seen) expect(Object.isFrozen(old)).toBe(true);
      seen.push(input);
      state = result.state;
    }
    expect(state.status).toBe("cancelled");
    expect(statuses(state)).toEqual({ a: "success", b: "success", c: "success", d: "cancelled" });
  });

  it("returns the very same state object when nothing changed", () => {
    const p = plan({ a: [] });
    const state = deepFreeze(initialRunState(p, { runId: "r", createdAt: 0 }));
    const t = transition(p, state, { type: "node-result", nodeId: "a", attempt: 1, outcome: ok() }, 5);
    expect(t).toEqual({ state, commands: [], changedSteps: [], changed: false });
    expect(t.state).toBe(state);
  });

  it("is deterministic: the same event on the same state gives the same transition", () => {
    const p = plan({ a: [], b: ["a"] }, { retry: { maxAttempts: 3, jitter: 0.5, backoff: "exponential" } });
    const run = new Driver(p);
    run.start(0);
    const event: RunEvent = {
      type: "node-result",
      nodeId: "a",
      attempt: 1,
      outcome: failure("node.failed", { retryable: true }),
    };
    const one = transition(p, run.state, event, 10);
    const two = transition(p, run.state, event, 10);
    expect(one).toEqual(two);
  });

  it("keeps unchanged steps by reference", () => {
    const run = new Driver(plan({ a: [], b: [] }));
    run.start(0);
    const before = run.state;
    run.result("a", ok(), 5);
    expect(run.state.steps.b).toBe(before.steps.b);
    expect(run.state.steps.a).not.toBe(before.steps.a);
  });
});

describe("attempt history and inputVersion", () => {
  it("records start, end, outcome and error per attempt; inputVersion is the version at attempt start", () => {
    const p = plan({ a: [], b: [] }, { nodes: { b: { retry: { maxAttempts: 3, initialDelayMs: 1_000 } } } });
    const run = new Driver(p);
    run.start(0);
    const error = err("node.http_status", { retryable: true, message: "503" });

    run.result("b", { type: "failure", error }, 10);
    expect(run.step("b")).toMatchObject({ status: "waiting", attempts: 1, inputVersion: 0, retryAt: 1_010, error });
    run.result("a", ok({ a: 1 }), 20);
    expect(run.state.contextVersion).toBe(1);

    run.fire(run.lastTimerOf("b"));
    expect(run.step("b")).toMatchObject({ status: "running", attempts: 2, inputVersion: 1, startedAt: 0 });
    expect(run.step("b").retryAt).toBeUndefined();

    run.result("b", ok({ b: 2 }), 1_020);
    expect(run.step("b").history).toEqual([
      { attempt: 1, startedAt: 0, endedAt: 10, outcome: "failure", error, inputVersion: 0 },
      { attempt: 2, startedAt: 1_010, endedAt: 1_020, outcome: "success", inputVersion: 1 },
    ]);
    expect(run.step("b")).toMatchObject({ status: "success", startedAt: 0, endedAt: 1_020, contextVersion: 2 });
    expect(run.step("b").error).toBeUndefined();
    expect(run.step("a").history).toEqual([
      { attempt: 1, startedAt: 0, endedAt: 20, outcome: "success", inputVersion: 0 },
    ]);
    expect(run.state.status).toBe("success");
  });
});

describe("node-results: a batch of results in one transition", () => {
  const p = plan({ s: [], a: ["s"], b: ["s"], c: ["s"], j: ["a", "b", "c"] });
  const outcomes = { a: ok({ a: 1 }), b: ok({ b: 2 }), c: ok({ c: 3 }) };

  function fannedOut(): Driver {
    const run = new Driver(p);
    run.start(0);
    run.result("s", ok(), 1);
    expect(run.statuses()).toMatchObject({ a: "running", b: "running", c: "running", j: "pending" });
    return run;
  }

  it("ends where the same results one by one end, in one transition with one context version each", () => {
    const oneByOne = fannedOut();
    for (const [nodeId, outcome] of Object.entries(outcomes)) oneByOne.result(nodeId, outcome, 5);
    const batched = fannedOut();
    const t = batched.send(
      {
        type: "node-results",
        results: Object.entries(outcomes).map(([nodeId, outcome]) => ({ nodeId, attempt: 1, outcome })),
      },
      5,
    );
    expect(batched.state).toEqual(oneByOne.state);
    expect(batched.statuses()).toMatchObject({ a: "success", b: "success", c: "success", j: "running" });
    expect(sorted(t.changedSteps)).toEqual(["a", "b", "c", "j"]);
    const writes = t.commands.filter((command) => command.type === "write-context");
    expect(writes.map((command) => command.type === "write-context" && command.version)).toEqual([2, 3, 4]);
    expect(executed(t)).toEqual(["j"]);
  });

  it("skips a stale result in the batch and stops at a failure that ends the run", () => {
    const run = fannedOut();
    const t = run.send(
      {
        type: "node-results",
        results: [
          { nodeId: "a", attempt: 7, outcome: ok({ a: 1 }) },
          { nodeId: "b", attempt: 1, outcome: failure("node.failed") },
          { nodeId: "c", attempt: 1, outcome: ok({ c: 3 }) },
        ],
      },
      5,
    );
    expect(run.state.status).toBe("failed");
    expect(run.state.error).toMatchObject({ code: "node.failed", nodeId: "b" });
    expect(run.step("c").status).not.toBe("success");
    expect(t.commands.filter((command) => command.type === "write-context")).toEqual([]);
  });
});
