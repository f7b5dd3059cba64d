import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";

const linear = {
  id: "linear",
  name: "Linear",
  triggers: [{ type: "manual" }],
  nodes: [
    { id: "a", type: "transform", config: { set: { greeting: "'Hello, ' & input.name" } } },
    { id: "b", type: "transform", config: { set: { shout: "$uppercase(greeting)" } } },
    { id: "c", type: "log", config: { message: "said {{ shout }}" } },
  ],
  edges: [
    { from: "a", to: "b" },
    { from: "b", to: "c" },
  ],
};

describe("a run of a linear workflow", () => {
  it("runs every node in order and reports each step", async () => {
    await register(linear);
    const runId = await startManual("linear", { name: "Ada" });
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ greeting: "Hello, Ada", shout: "HELLO, ADA" });
    expect(report.steps.map((step) => [step.nodeId, step.status, step.attempts])).toEqual([
      ["a", "success", 1],
      ["b", "success", 1],
      ["c", "success", 1],
    ]);
    expect(report.contextVersion).toBe(3);
  });

  it("lists the run from D1 once its checkpoints are flushed", async () => {
    const runId = await startManual("linear", { name: "Bo" });
    await settle(runId);
    const response = await api("/api/runs?workflow=linear&status=success");
    const body = (await response.json()) as { runs: { runId: string; status: string }[] };
    expect(body.runs.map((run) => run.runId)).toContain(runId);
  });
});
