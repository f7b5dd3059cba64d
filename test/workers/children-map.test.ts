import { describe, expect, it } from "vitest";
import { double, failingFor, reportOf, settleTree } from "./children-helpers";
import { register, startManual } from "./helpers";

describe("map", () => {
  it("runs each item as a child run and collects the results in item order", async () => {
    await register({
      id: "map-small",
      name: "Map",
      nodes: [{ id: "each", type: "map", config: { items: "input.items", body: double, output: "doubled" } }],
    });
    const runId = await startManual("map-small", { items: [1, 2, 3] });
    const report = await settleTree(runId);
    expect(report.status).toBe("success");
    expect(report.context.doubled).toEqual([2, 4, 6]);
    const step = report.steps[0];
    expect(step?.children).toMatchObject({ mode: "map", phase: "done", total: 3, succeeded: 3, failed: 0 });
    const child = await reportOf(`${runId}.each.1.0`);
    expect(child).toMatchObject({
      workflowId: "map-small/each",
      status: "success",
      input: 1,
      output: 2,
      parent: { runId, nodeId: "each", attempt: 1, index: 0, depth: 2 },
    });
    // One meaning of depth: the top-level run is level 1, its children level 2.
    expect(report.context.run).toMatchObject({ id: runId, depth: 1 });
    expect(report.parent).toBeNull();
    expect(child.context.run).toMatchObject({ parentRunId: runId, depth: 2 });
  });

  it("fail-fast: the first failed item fails the step", async () => {
    await register({
      id: "map-fail-fast",
      name: "Map",
      nodes: [
        {
          id: "each",
          type: "map",
          config: { items: "input.items", body: failingFor([2]), output: "out", concurrency: 1 },
        },
      ],
    });
    const runId = await startManual("map-fail-fast", { items: [0, 1, 2, 3, 4] });
    const report = await settleTree(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "map.item_failed", nodeId: "each", details: { index: 2 } });
    expect(report.steps[0]?.children).toMatchObject({ started: 3, succeeded: 2, failed: 1, phase: "failed" });
  });
});

describe("a map of 1,000 items", () => {
  it("tolerating 5 failures: succeeds with results in order, the 3 failures listed, at most 10 children out", async () => {
    const failing = [17, 500, 998];
    await register({
      id: "map-thousand",
      name: "Map of 1,000",
      nodes: [
        { id: "items", type: "transform", config: { set: { items: "[0..999]" } } },
        {
          id: "each",
          type: "map",
          config: {
            items: "items",
            body: failingFor(failing),
            concurrency: 10,
            onFailure: { tolerate: 5 },
            output: "results",
            failures: "failed",
          },
        },
      ],
      edges: [{ from: "items", to: "each" }],
    });
    const started = Date.now();
    const runId = await startManual("map-thousand");
    const report = await settleTree(runId);
    const elapsed = Date.now() - started;
    expect(report.status).toBe("success");
    const results = report.context.results as (number | null)[];
    expect(results).toHaveLength(1_000);
    expect(results.map((value, index) => (failing.includes(index) ? value === null : value === index * 2))).toEqual(
      Array.from({ length: 1_000 }, () => true),
    );
    const failed = report.context.failed as { index: number; error: { code: string } }[];
    expect(failed.map((entry) => [entry.index, entry.error.code])).toEqual(
      failing.map((index) => [index, "node.expression_failed"]),
    );
    const step = report.steps.find((entry) => entry.nodeId === "each");
    expect(step?.children).toMatchObject({ total: 1_000, succeeded: 997, failed: 3, phase: "done" });
    expect(step?.children?.maxRunning).toBe(10);
    console.log(JSON.stringify({ test: "map of 1,000", elapsedMs: elapsed }));
    expect(elapsed).toBeLessThan(60_000);
  }, 120_000);
});
