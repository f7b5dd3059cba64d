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
      parent: { runId, nodeId: "each", attempt: 1, index: 0, depth: 1 },
    });
    expect(child.context.run).toMatchObject({ parentRunId: runId, depth: 1 });
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
