import { afterEach, describe, expect, it, vi } from "vitest";
import type { PlanNode } from "../../src/engine/plan";
import type { RunState } from "../../src/engine/state";
import { SpanLog } from "../../src/run/spans";

const state = {
  runId: "run-1",
  workflowId: "wf",
  version: 1,
  status: "success",
  createdAt: 0,
  updatedAt: 10,
  startedAt: 0,
  endedAt: 10,
  contextVersion: 0,
  steps: {},
} as RunState;
const node = { id: "n", type: "transform" } as PlanNode;

function spanLines(spy: { mock: { calls: unknown[][] } }): number[] {
  return spy.mock.calls.map((args) => (JSON.parse(String(args[0])) as { spans: unknown[] }).spans.length);
}

describe("SpanLog in batch mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes nothing while a run's steps go on, then lines of at most 100 spans", () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const log = new SpanLog("batch");
    for (let attempt = 1; attempt <= 250; attempt++)
      log.attempt(state, node, attempt, 0, { type: "success", output: {} }, 1);
    expect(spy).not.toHaveBeenCalled();
    log.run(state);
    expect(spanLines(spy)).toEqual([100, 100, 51]);
  });

  it("writes mid-run once 1,000 spans are held, so memory stays bounded", () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const log = new SpanLog("batch");
    for (let attempt = 1; attempt <= 1_000; attempt++)
      log.attempt(state, node, attempt, 0, { type: "success", output: {} }, 1);
    expect(spanLines(spy)).toEqual(Array(10).fill(100));
    log.flush();
    expect(spy).toHaveBeenCalledTimes(10);
  });
});
