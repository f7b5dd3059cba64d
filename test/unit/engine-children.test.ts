import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events";
import type { SpawnRequest } from "../../src/engine/outcome";
import { commandsOf, Driver, err, executed, plan } from "./plan-fixture";

/** m spawns children; next runs after it. */
const mapPlan = plan({ m: [], next: ["m"] }, { nodes: { m: { type: "map", kind: "io" } } });

function spawn(overrides: Partial<SpawnRequest> = {}) {
  return {
    type: "spawn" as const,
    spawn: { mode: "map" as const, count: 5, concurrency: 2, tolerance: 0, ...overrides },
  };
}

function ended(
  index: number,
  status: "success" | "failed" | "cancelled" = "success",
  extra: { done?: boolean; attempt?: number } = {},
): RunEvent {
  return {
    type: "child-ended",
    nodeId: "m",
    attempt: extra.attempt ?? 1,
    index,
    status,
    ...(status === "failed" ? { error: err("node.failed", { message: `item ${index} broke` }) } : {}),
    ...(extra.done !== undefined ? { done: extra.done } : {}),
  };
}

function started(t: { commands: readonly unknown[] }): number[] {
  return commandsOf(t.commands as never, "start-child").map((command) => command.index);
}

function spawned(request: Partial<SpawnRequest> = {}, p = mapPlan): Driver {
  const run = new Driver(p);
  run.start(0);
  run.result("m", spawn(request), 10);
  return run;
}

describe("child runs", () => {
  it("starts up to `concurrency` children and waits for them", () => {
    const run = new Driver(mapPlan);
    run.start(0);
    const t = run.result("m", spawn(), 10);
    expect(started(t)).toEqual([0, 1]);
    expect(run.step("m")).toMatchObject({
      status: "waiting",
      children: { mode: "map", total: 5, next: 2, running: [0, 1], succeeded: 0, failed: 0, maxRunning: 2 },
      history: [{ attempt: 1, outcome: "await-children" }],
    });
    expect(run.state.status).toBe("waiting");
  });

  it("starts the next child as each one ends, then collects once all are settled", () => {
    const run = spawned();
    const starts = [0, 1, 2, 3, 4].map((index) => started(run.send(ended(index), 20 + index)));
    expect(starts).toEqual([[2], [3], [4], [], []]);
    const last = run.history.at(-1);
    expect(commandsOf(last?.commands ?? [], "collect-children")).toEqual([
      { type: "collect-children", nodeId: "m", attempt: 1 },
    ]);
    expect(run.step("m").children).toMatchObject({ phase: "collecting", succeeded: 5, running: [] });
    const t = run.send({ type: "children-collected", nodeId: "m", attempt: 1, output: { results: [1, 2] } }, 40);
    expect(run.step("m")).toMatchObject({ status: "success", output: { results: [1, 2] } });
    expect(commandsOf(t.commands, "write-context")).toEqual([
      { type: "write-context", nodeId: "m", version: 1, patch: { results: [1, 2] } },
    ]);
    expect(executed(t)).toEqual(["next"]);
  });

  it("an empty map collects at once", () => {
    const run = new Driver(mapPlan);
    run.start(0);
    const t = run.result("m", spawn({ count: 0 }), 10);
    expect(started(t)).toEqual([]);
    expect(commandsOf(t.commands, "collect-children")).toHaveLength(1);
  });

  it.each([
    { name: "a second report of the same child", event: ended(0), after: [ended(0)] },
    { name: "a child that was never started", event: ended(3), after: [] },
    { name: "another attempt's child", event: ended(0, "success", { attempt: 2 }), after: [] },
  ])("ignores $name", ({ event, after }) => {
    const run = spawned();
    for (const earlier of after) run.send(earlier, 15);
    expect(run.send(event, 20).changed).toBe(false);
  });

  it("fail-fast: the first failure cancels the children out and fails the step", () => {
    const run = spawned({ concurrency: 3 });
    const t = run.send(ended(1, "failed"), 20);
    expect(commandsOf(t.commands, "cancel-children")).toEqual([
      { type: "cancel-children", nodeId: "m", attempt: 1, indices: [0, 2] },
    ]);
    expect(run.step("m")).toMatchObject({
      status: "failed",
      error: { code: "map.item_failed", details: { index: 1, cause: { message: "item 1 broke" } } },
      children: { phase: "failed", running: [], failed: 1 },
    });
    expect(run.state.status).toBe("failed");
    // The cancelled children reporting back change nothing.
    expect(run.send(ended(0, "cancelled"), 30).changed).toBe(false);
  });

  it.each([
    { tolerance: 2, failures: [0, 1], fails: false },
    { tolerance: 2, failures: [0, 1, 2], fails: true },
  ])("tolerating $tolerance, failures $failures: step fails = $fails", ({ tolerance, failures, fails }) => {
    const run = spawned({ count: 4, concurrency: 4, tolerance });
    for (const index of [0, 1, 2, 3]) run.send(ended(index, failures.includes(index) ? "failed" : "success"), 20);
    if (fails) {
      expect(run.step("m").error).toMatchObject({
        code: "map.too_many_failures",
        details: { failed: 3, tolerated: 2, index: 2 },
      });
      expect(run.state.status).toBe("failed");
    } else {
      expect(run.step("m").children).toMatchObject({ phase: "collecting", failed: 2, succeeded: 2 });
    }
  });

  it("a failure the retry policy allows starts a new attempt with new children", () => {
    const retrying = plan(
      { m: [], next: ["m"] },
      { nodes: { m: { type: "map", kind: "io", retry: { maxAttempts: 2 } } } },
    );
    const run = spawned({ count: 1, mode: "subworkflow", concurrency: 1 }, retrying);
    run.send({ ...ended(0, "failed"), error: err("node.timeout", { retryable: true }) } as RunEvent, 20);
    expect(run.step("m")).toMatchObject({ status: "waiting", error: { code: "subworkflow.failed", retryable: true } });
    const t = run.fire(run.lastTimerOf("m"));
    expect(executed(t)).toEqual(["m"]);
    const second = run.result("m", spawn({ count: 1, mode: "subworkflow", concurrency: 1 }), 2_000);
    expect(commandsOf(second.commands, "start-child")).toEqual([
      { type: "start-child", nodeId: "m", attempt: 2, index: 0 },
    ]);
  });

  describe("loops", () => {
    const loop = { mode: "loop" as const, count: 3, concurrency: 1 };

    it("runs iterations one after another until the condition holds", () => {
      const run = spawned(loop);
      expect(started(run.history.at(-1) ?? { commands: [] })).toEqual([0]);
      expect(started(run.send(ended(0, "success", { done: false }), 20))).toEqual([1]);
      const t = run.send(ended(1, "success", { done: true }), 30);
      expect(started(t)).toEqual([]);
      expect(commandsOf(t.commands, "collect-children")).toHaveLength(1);
      expect(run.step("m").children).toMatchObject({ succeeded: 2, total: 2, phase: "collecting" });
    });

    it("fails with loop.max_iterations when the last iteration does not finish the loop", () => {
      const run = spawned(loop);
      for (const index of [0, 1, 2]) run.send(ended(index, "success", { done: false }), 20 + index);
      expect(run.step("m")).toMatchObject({
        status: "failed",
        error: { code: "loop.max_iterations", retryable: false, details: { iterations: 3 } },
      });
    });

    it("a condition that holds on the last allowed iteration succeeds", () => {
      const run = spawned(loop);
      for (const index of [0, 1]) run.send(ended(index, "success", { done: false }), 20 + index);
      run.send(ended(2, "success", { done: true }), 30);
      expect(run.step("m").children?.phase).toBe("collecting");
    });

    it("a failed iteration fails the step", () => {
      const run = spawned(loop);
      run.send(ended(0, "failed"), 20);
      expect(run.step("m").error).toMatchObject({ code: "loop.iteration_failed", details: { iteration: 1 } });
    });
  });

  it("cancelling the run cancels the children out", () => {
    const run = spawned({ concurrency: 3 });
    run.send(ended(0), 15);
    const t = run.cancel(20);
    expect(commandsOf(t.commands, "cancel-children")).toEqual([
      { type: "cancel-children", nodeId: "m", attempt: 1, indices: [1, 2, 3] },
    ]);
    expect(run.step("m").status).toBe("cancelled");
  });

  it("a paused run starts no new children until it is unpaused", () => {
    const run = spawned({ count: 3, concurrency: 1 });
    run.send({ type: "pause" }, 15);
    expect(started(run.send(ended(0), 20))).toEqual([]);
    expect(run.step("m").children).toMatchObject({ running: [], next: 1, phase: "running" });
    const t = run.send({ type: "unpause" }, 30);
    expect(started(t)).toEqual([1]);
  });

  it("a restart leaves a waiting step's children to the shell", () => {
    const run = spawned();
    expect(run.resume(20).commands).toEqual([]);
  });

  it("collect answers for another phase or attempt are ignored", () => {
    const run = spawned();
    const collected: RunEvent = { type: "children-collected", nodeId: "m", attempt: 1, output: {} };
    expect(run.send(collected, 20).changed).toBe(false);
  });
});
