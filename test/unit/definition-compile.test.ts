import { describe, expect, it } from "vitest";
import { compilePlan, topologicalOrder } from "../../src/definition/compile";
import type { WorkflowDefinition } from "../../src/definition/schema";
import { reference, valid } from "./definition-fixture";

describe("compilePlan", () => {
  const plan = compilePlan(valid(reference()).definition, 7);

  it("orders nodes topologically and wires preds and succs in edge order", () => {
    expect(plan).toMatchObject({ workflowId: "support-triage", version: 7 });
    expect(plan.order).toEqual(["prepare", "route", "notify", "skip", "done"]);
    expect(plan.nodes.route).toMatchObject({
      preds: ["prepare"],
      succs: ["notify", "skip"],
      routes: true,
      kind: "pure",
    });
    expect(plan.nodes.done).toMatchObject({ preds: ["notify", "skip"], succs: [], routes: false });
    expect(plan.nodes.prepare?.preds).toEqual([]);
  });

  it("resolves timeouts and retry policies", () => {
    expect(plan.nodes.notify).toMatchObject({ kind: "io", timeoutMs: 10_000 });
    expect(plan.nodes.notify?.retry).toEqual({
      maxAttempts: 5,
      backoff: "fixed",
      initialDelayMs: 2_000,
      maxDelayMs: 300_000,
      jitter: 0.5,
      nonRetryable: [],
    });
    expect(plan.nodes.prepare?.timeoutMs).toBe(5_000);
    expect(plan.nodes.prepare?.retry).toEqual({
      maxAttempts: 1,
      backoff: "exponential",
      initialDelayMs: 1_000,
      maxDelayMs: 300_000,
      jitter: 0,
      nonRetryable: [],
    });
  });

  const http = (retry?: object, timeout?: string): WorkflowDefinition =>
    valid({
      id: "w",
      name: "w",
      nodes: [{ id: "call", type: "http", config: { url: "https://example.com" }, retry, timeout }],
    }).definition;

  it.each([
    ["spec defaults", undefined, { maxAttempts: 3, jitter: 0, backoff: "exponential" }],
    ["jitter false", { jitter: false }, { jitter: 0 }],
    ["jitter true", { jitter: true }, { jitter: 0.5 }],
    ["jitter fraction", { jitter: 0.2 }, { jitter: 0.2 }],
    [
      "override",
      { maxAttempts: 9, maxDelay: "1h", nonRetryable: ["node.http_status"] },
      { maxAttempts: 9, maxDelayMs: 3_600_000, nonRetryable: ["node.http_status"] },
    ],
  ] as const)("retry: %s", (_name, retry, expected) => {
    expect(compilePlan(http(retry), 1).nodes.call?.retry).toMatchObject(expected);
  });

  it("uses the spec timeout unless the node overrides it", () => {
    expect(compilePlan(http(), 1).nodes.call?.timeoutMs).toBe(30_000);
    expect(compilePlan(http(undefined, "1.5s"), 1).nodes.call?.timeoutMs).toBe(1_500);
  });
});

describe("topologicalOrder", () => {
  it("breaks ties by definition order", () => {
    expect(topologicalOrder(["c", "a", "b"], [])).toEqual(["c", "a", "b"]);
    // FIFO would give a, c, d, b; definition order puts b (position 1) before d (position 3).
    expect(
      topologicalOrder(
        ["a", "b", "c", "d"],
        [
          { from: "a", to: "d" },
          { from: "c", to: "b" },
        ],
      ),
    ).toEqual(["a", "c", "b", "d"]);
  });

  it("returns undefined on a cycle", () => {
    expect(
      topologicalOrder(
        ["a", "b"],
        [
          { from: "a", to: "b" },
          { from: "b", to: "a" },
        ],
      ),
    ).toBeUndefined();
  });
});
