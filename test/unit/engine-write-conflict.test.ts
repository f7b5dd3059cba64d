import { describe, expect, it } from "vitest";
import { commandsOf, Driver, executed, ok, plan } from "./plan-fixture";

describe("runtime write conflicts", () => {
  it("fails the second of two parallel writers of one key instead of letting the last write win", () => {
    const run = new Driver(plan({ a: [], b: ["a"], c: ["a"], join: ["b", "c"] }));
    run.start(0);
    run.result("a", ok({ seed: 1 }), 10);
    const first = run.result("b", ok({ total: 1, fromB: true }), 20);
    expect(commandsOf(first.commands, "write-context")).toHaveLength(1);

    const second = run.result("c", ok({ total: 2 }), 30);
    expect(commandsOf(second.commands, "write-context")).toEqual([]);
    expect(executed(second)).toEqual([]);
    expect(run.step("c")).toMatchObject({
      status: "failed",
      error: { code: "context.write_conflict", retryable: false, details: { nodes: ["b", "c"], key: "total" } },
    });
    expect(run.step("c").history.at(-1)).toMatchObject({ outcome: "failure" });
    expect(run.step("join")).toMatchObject({ status: "skipped", skip: { reason: "run.failed" } });
    expect(run.state).toMatchObject({ status: "failed", contextVersion: 2, error: { nodeId: "c" } });
    expect(run.state.error?.message).toMatch(/"c" and "b" ran side by side and both wrote "total"/);
  });

  it("lets a node overwrite a key one of its ancestors wrote", () => {
    const run = new Driver(plan({ a: [], b: ["a"], c: ["b"] }));
    run.start(0);
    run.result("a", ok({ total: 1 }), 10);
    run.result("b", ok({ other: 1 }), 20);
    run.result("c", ok({ total: 2 }), 30);
    expect(run.state).toMatchObject({ status: "success", contextVersion: 3 });
  });

  it("lets parallel nodes write different keys", () => {
    const run = new Driver(plan({ a: [], b: [], join: ["a", "b"] }));
    run.start(0);
    run.result("a", ok({ left: 1 }), 10);
    const last = run.result("b", ok({ right: 1 }), 20);
    expect(executed(last)).toEqual(["join"]);
  });
});
