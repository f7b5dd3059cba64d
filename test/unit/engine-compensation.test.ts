import { describe, expect, it } from "vitest";
import { compensationLayers } from "../../src/engine/compensation";
import type { Command } from "../../src/engine/events";
import type { Plan, PlanNode, RetryPolicy } from "../../src/engine/plan";
import { commandsOf, Driver, defaultRetry, failure, ok, plan } from "./plan-fixture";

type Execute = Extract<Command, { type: "execute" }>;

const undoRetry: RetryPolicy = { ...defaultRetry, maxAttempts: 3, initialDelayMs: 500 };

/** A plan whose `undoable` nodes have a compensate, rolling back on failure and/or cancel. */
function sagaPlan(
  graph: Record<string, readonly string[]>,
  undoable: readonly string[],
  on: Plan["compensateOn"] = { failure: true, cancel: true },
): Plan {
  const base = plan(graph);
  const nodes: Record<string, PlanNode> = {};
  for (const [id, node] of Object.entries(base.nodes)) {
    nodes[id] = undoable.includes(id)
      ? { ...node, kind: "io", compensate: { timeoutMs: 5_000, retry: undoRetry, config: {} } }
      : node;
  }
  return { ...base, nodes, ...(on ? { compensateOn: on } : {}) };
}

const undos = (commands: readonly Command[]): Execute[] =>
  commandsOf(commands, "execute").filter((command) => command.compensate === true);

/** Runs the listed nodes to success, one at a time, in order. */
function complete(driver: Driver, ids: readonly string[], from = 1): number {
  let now = from;
  for (const id of ids) driver.result(id, ok({ [id]: true }), now++);
  return now;
}

function undone(driver: Driver, nodeId: string, outcome: Parameters<Driver["result"]>[1], now: number) {
  const attempt = driver.step(nodeId).compensation?.attempts ?? 0;
  return driver.send({ type: "node-result", nodeId, attempt, outcome, compensate: true }, now);
}

describe("compensationLayers", () => {
  it("puts a chain in reverse and a parallel pair in one layer, after what followed it", () => {
    const p = sagaPlan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: ["d"] }, ["a", "b", "c", "d", "e"]);
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b", "c", "d", "e"]);
    expect(compensationLayers(p, driver.state.steps)).toEqual([["e"], ["d"], ["b", "c"], ["a"]]);
  });

  it("skips steps without a compensate and steps that did not complete, keeping the order of the rest", () => {
    const p = sagaPlan({ a: [], b: ["a"], c: ["b"], d: ["c"] }, ["a", "c", "d"]);
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b", "c"]);
    expect(compensationLayers(p, driver.state.steps)).toEqual([["c"], ["a"]]);
  });
});

describe("engine: compensation on failure", () => {
  const p = sagaPlan({ s1: [], s2: ["s1"], s3: ["s2"], s4: ["s3"] }, ["s1", "s2", "s3", "s4"], {
    failure: true,
    cancel: false,
  });

  it("undoes steps 3, 2, 1 one after the other with one key each, then ends failed and rolled back", () => {
    const driver = new Driver(p, { runId: "r1" });
    driver.start(0);
    let now = complete(driver, ["s1", "s2", "s3"]);
    const failed = driver.result("s4", failure("node.http_status"), now++);
    expect(driver.state.status).toBe("running");
    expect(driver.state.compensation).toMatchObject({ cause: "failed", layers: [["s3"], ["s2"], ["s1"]], layer: 0 });
    expect(driver.state.error).toMatchObject({ code: "node.http_status", nodeId: "s4" });
    expect(commandsOf(failed.commands, "run-ended")).toEqual([]);
    expect(undos(failed.commands)).toEqual([
      {
        type: "execute",
        nodeId: "s3",
        attempt: 1,
        idempotencyKey: "r1:s3:compensate",
        timeoutMs: 5_000,
        compensate: true,
      },
    ]);
    expect(driver.step("s4").compensation).toBeUndefined();

    const order: string[] = ["s3"];
    for (const [nodeId, next] of [
      ["s3", "s2"],
      ["s2", "s1"],
    ] as const) {
      const t = undone(driver, nodeId, ok(), now++);
      expect(undos(t.commands).map((command) => command.nodeId)).toEqual([next]);
      order.push(next);
    }
    const last = undone(driver, "s1", ok(), now);
    expect(order).toEqual(["s3", "s2", "s1"]);
    expect(driver.state).toMatchObject({ status: "failed", rolledBack: true, endedAt: now });
    expect(driver.state.compensation).toMatchObject({ layer: 3, endedAt: now });
    expect(commandsOf(last.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(driver.step("s1").compensation).toMatchObject({ status: "success", attempts: 1, endedAt: now });
  });

  it("retries a failing compensation on the alarm, with the same key, and then goes on", () => {
    const driver = new Driver(p, { runId: "r1" });
    driver.start(0);
    complete(driver, ["s1", "s2", "s3"]);
    driver.result("s4", failure(), 10);
    const t = undone(driver, "s3", failure("node.http_status", { retryable: true }), 11);
    expect(driver.state.status).toBe("waiting");
    const timer = driver.lastTimer();
    expect(timer).toEqual({ id: "compensate:s3:1", at: 511, kind: "compensate", nodeId: "s3", attempt: 1 });
    expect(undos(t.commands)).toEqual([]);
    expect(driver.step("s3").compensation).toMatchObject({ status: "waiting", retryAt: 511 });
    const again = driver.fire(timer);
    expect(undos(again.commands)).toMatchObject([{ nodeId: "s3", attempt: 2, idempotencyKey: "r1:s3:compensate" }]);
    // A second firing of the same timer changes nothing.
    expect(driver.fire(timer).changed).toBe(false);
    const next = undone(driver, "s3", ok(), 600);
    expect(undos(next.commands).map((command) => command.nodeId)).toEqual(["s2"]);
  });

  it("puts the run in needs_review when a compensation runs out of attempts, and an operator's retry takes it up", () => {
    const driver = new Driver(p, { runId: "r1" });
    driver.start(0);
    complete(driver, ["s1", "s2", "s3"]);
    driver.result("s4", failure(), 10);
    const down = undone(driver, "s3", failure("node.http_status", { retryable: false }), 11);
    expect(driver.state.status).toBe("needs_review");
    expect(undos(down.commands)).toEqual([]);
    expect(driver.step("s3").compensation).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { code: "node.http_status" },
    });
    // Nothing further is undone while it stands.
    expect(driver.step("s2").compensation?.status).toBe("pending");

    const retried = driver.send({ type: "retry", by: "ops@example.com" }, 20);
    expect(undos(retried.commands)).toMatchObject([{ nodeId: "s3", attempt: 2 }]);
    expect(driver.state.status).toBe("running");
    expect(driver.state.operations?.at(-1)).toMatchObject({ type: "retry", nodes: ["s3"], by: "ops@example.com" });
    undone(driver, "s3", ok(), 21);
    undone(driver, "s2", ok(), 22);
    undone(driver, "s1", ok(), 23);
    expect(driver.state).toMatchObject({ status: "failed", rolledBack: true });
  });

  it("ends failed, not rolled back, when the run is cancelled while a compensation is under review", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1", "s2", "s3"]);
    driver.result("s4", failure(), 10);
    undone(driver, "s3", failure(), 11);
    const t = driver.cancel(12, "giving up");
    expect(driver.state).toMatchObject({ status: "failed", rolledBack: false, endedAt: 12 });
    expect(driver.state.error).toMatchObject({ nodeId: "s4" });
    expect(commandsOf(t.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    expect(driver.step("s3").compensation?.status).toBe("failed");
    expect(driver.step("s2").compensation?.status).toBe("cancelled");
    // A late result changes nothing.
    expect(undone(driver, "s3", ok(), 13).changed).toBe(false);
  });

  it("executes a compensation cut short by a restart again as the same attempt", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1", "s2", "s3"]);
    driver.result("s4", failure(), 10);
    const t = driver.resume(11);
    expect(undos(t.commands)).toMatchObject([{ nodeId: "s3", attempt: 1 }]);
    expect(driver.step("s3").compensation).toMatchObject({ status: "running", attempts: 1, interruptions: 1 });
  });

  it("ends failed at once when nothing completed that has a compensate", () => {
    const driver = new Driver(p);
    driver.start(0);
    const t = driver.result("s1", failure(), 1);
    expect(driver.state).toMatchObject({ status: "failed", rolledBack: true });
    expect(driver.state.compensation).toMatchObject({ layers: [], endedAt: 1 });
    expect(commandsOf(t.commands, "run-ended")).toHaveLength(1);
  });

  it("does not compensate a cancelled run when only onFailure asks for it", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1"]);
    driver.cancel(5);
    expect(driver.state.status).toBe("cancelled");
    expect(driver.state.compensation).toBeUndefined();
    expect(driver.state.rolledBack).toBeUndefined();
  });

  it("does not take up a rolled-back run again on retry", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1"]);
    driver.result("s2", failure(), 5);
    undone(driver, "s1", ok(), 6);
    expect(driver.state.status).toBe("failed");
    expect(driver.send({ type: "retry" }, 7).changed).toBe(false);
  });
});

describe("engine: an operator's compensation of an ended run", () => {
  const p = sagaPlan({ s1: [], s2: ["s1"], s3: ["s2"] }, ["s1", "s2"], { failure: false, cancel: false });

  it("takes a failed run up again to undo its completed steps, and ends it failed and rolled back", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1", "s2"]);
    driver.result("s3", failure(), 5);
    expect(driver.state.status).toBe("failed");
    expect(driver.state.compensation).toBeUndefined();
    const t = driver.send({ type: "compensate", by: "ops", reason: "withdrawn" }, 10);
    expect(undos(t.commands).map((command) => command.nodeId)).toEqual(["s2"]);
    expect(driver.state.status).toBe("running");
    expect(driver.state.endedAt).toBeUndefined();
    expect(driver.state.operations?.at(-1)).toMatchObject({ type: "compensate", nodes: ["s2", "s1"], by: "ops" });
    undone(driver, "s2", ok(), 11);
    const end = undone(driver, "s1", ok(), 12);
    expect(driver.state).toMatchObject({ status: "failed", rolledBack: true, endedAt: 12 });
    expect(commandsOf(end.commands, "run-ended")).toEqual([{ type: "run-ended", status: "failed" }]);
    // Nothing left to undo: a second ask changes nothing.
    expect(driver.send({ type: "compensate" }, 13).changed).toBe(false);
  });

  it("changes nothing on a run that is still active or succeeded", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["s1"]);
    expect(driver.send({ type: "compensate" }, 2).changed).toBe(false);
    complete(driver, ["s2", "s3"], 3);
    expect(driver.state.status).toBe("success");
    expect(driver.send({ type: "compensate" }, 9).changed).toBe(false);
  });
});

describe("engine: compensation of parallel steps and on cancel", () => {
  const p = sagaPlan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }, ["a", "b", "c", "d"], {
    failure: false,
    cancel: true,
  });

  it("undoes a parallel pair together, then what came before them", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b", "c"]);
    const t = driver.cancel(10, "no longer wanted");
    expect(driver.state.compensation).toMatchObject({ cause: "cancelled", layers: [["b", "c"], ["a"]] });
    expect(undos(t.commands).map((command) => command.nodeId)).toEqual(["b", "c"]);
    expect(driver.step("d")).toMatchObject({ status: "cancelled" });
    expect(driver.step("d").compensation).toBeUndefined();
    // One of the pair done: the other is still awaited before a is undone.
    expect(undos(undone(driver, "c", ok(), 11).commands)).toEqual([]);
    expect(undos(undone(driver, "b", ok(), 12).commands).map((command) => command.nodeId)).toEqual(["a"]);
    const end = undone(driver, "a", ok(), 13);
    expect(driver.state).toMatchObject({ status: "cancelled", rolledBack: true });
    expect(driver.state.error).toMatchObject({ code: "run.cancelled", message: "no longer wanted" });
    expect(commandsOf(end.commands, "run-ended")).toEqual([{ type: "run-ended", status: "cancelled" }]);
  });

  it("compensates only what completed when cancelled mid-run", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b"]);
    // c is still running when the cancel comes: it is cut off, not undone.
    driver.cancel(10);
    expect(driver.state.compensation?.layers).toEqual([["b"], ["a"]]);
    expect(driver.step("c").status).toBe("cancelled");
    expect(driver.step("c").compensation).toBeUndefined();
  });

  it("ends the compensation, not the run's rollback twice, on a second cancel", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a"]);
    driver.cancel(10);
    const t = driver.cancel(11);
    expect(driver.state).toMatchObject({ status: "cancelled", rolledBack: false });
    expect(driver.step("a").compensation?.status).toBe("cancelled");
    expect(commandsOf(t.commands, "run-ended")).toHaveLength(1);
  });

  it("clears the retry timer of a compensation waiting out its backoff when cancelled", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a"]);
    driver.cancel(10);
    undone(driver, "a", failure("node.http_network", { retryable: true }), 11);
    const t = driver.cancel(12);
    expect(commandsOf(t.commands, "clear-timer")).toEqual([{ type: "clear-timer", id: "compensate:a:1" }]);
  });

  it("undoes a step that was cut off by the cancel but succeeded after all, in the group under way", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b"]);
    driver.cancel(10);
    expect(driver.step("c").history.at(-1)?.outcome).toBe("cancelled");
    const late = driver.result("c", ok({ c: true }), 11, 1);
    expect(undos(late.commands)).toMatchObject([{ nodeId: "c", attempt: 1, idempotencyKey: "run-1:c:compensate" }]);
    expect(driver.state.compensation?.layers).toEqual([["b", "c"], ["a"]]);
    expect(driver.step("c")).toMatchObject({ status: "cancelled", compensation: { status: "running" } });
    expect(driver.step("c").history.at(-1)).toMatchObject({ outcome: "success", endedAt: 11 });
    // Its output is not taken: the run is ending.
    expect(commandsOf(late.commands, "write-context")).toEqual([]);
    // b alone done: a waits for c's undo too.
    expect(undos(undone(driver, "b", ok(), 12).commands)).toEqual([]);
    expect(undos(undone(driver, "c", ok(), 13).commands).map((command) => command.nodeId)).toEqual(["a"]);
  });

  it("leaves a cut-off step alone when it fails after all, or reports twice", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b"]);
    driver.cancel(10);
    expect(driver.result("c", failure(), 11, 1).changed).toBe(false);
    driver.result("c", ok(), 12, 1);
    expect(driver.result("c", ok(), 13, 1).changed).toBe(false);
  });

  it("refuses a pause while rolling back", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a"]);
    driver.cancel(10);
    expect(driver.send({ type: "pause", by: "ops" }, 11).changed).toBe(false);
  });

  it("keeps stale results of the steps from touching the rollback", () => {
    const driver = new Driver(p);
    driver.start(0);
    complete(driver, ["a", "b"]);
    driver.cancel(10);
    expect(driver.send({ type: "node-result", nodeId: "a", attempt: 1, outcome: ok() }, 11).changed).toBe(false);
    expect(driver.send({ type: "node-result", nodeId: "c", attempt: 2, outcome: ok() }, 11).changed).toBe(false);
  });
});
