import { describe, expect, it } from "vitest";
import { formatDuration, table } from "../../cli/format";
import { nothingSeen, progressLines } from "../../cli/progress";
import { timeline } from "../../cli/timeline";
import type { ExecutionReport } from "../../src/run/report";

type Step = ExecutionReport["steps"][number];

const t0 = Date.UTC(2026, 11, 4, 9, 0, 0);

function step(nodeId: string, fields: Partial<Step> = {}): Step {
  return {
    nodeId,
    type: "transform",
    status: "pending",
    attempts: 0,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    error: null,
    output: null,
    inputVersion: null,
    contextVersion: null,
    history: [],
    review: null,
    awaiting: null,
    deferred: null,
    llm: null,
    replayedFrom: null,
    children: null,
    skip: null,
    compensation: null,
    ...fields,
  };
}

function report(status: string, steps: Step[], fields: Partial<ExecutionReport> = {}): ExecutionReport {
  return {
    runId: "run_1",
    workflowId: "flow",
    version: 2,
    status,
    trigger: null,
    input: {},
    context: {},
    contextVersion: 0,
    error: null,
    createdAt: t0,
    startedAt: t0,
    updatedAt: t0,
    endedAt: null,
    steps,
    contextVersions: [],
    llm: null,
    paused: null,
    operations: [],
    replayOf: null,
    parent: null,
    output: null,
    rolledBack: null,
    compensation: null,
    ...fields,
  };
}

const done = (nodeId: string, startedAt: number, durationMs: number) =>
  step(nodeId, {
    status: "success",
    attempts: 1,
    startedAt,
    endedAt: startedAt + durationMs,
    durationMs,
    history: [
      {
        attempt: 1,
        startedAt,
        endedAt: startedAt + durationMs,
        outcome: "success",
        durationMs,
        errorCode: null,
        errorMessage: null,
        output: null,
        contextVersion: 1,
      },
    ],
  });

describe("formatDuration", () => {
  it.each([
    [null, "-"],
    [0, "0ms"],
    [850, "850ms"],
    [4_200, "4.2s"],
    [2_000, "2s"],
    [190_000, "3m 10s"],
    [7_500_000, "2h 5m"],
    [3 * 86_400_000, "3d"],
  ])("%s ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("table", () => {
  it("pads every column but the last to its widest cell", () => {
    expect(
      table(
        ["A", "LONGER"],
        [
          ["wide cell", "x"],
          ["", "y"],
        ],
      ),
    ).toBe("A          LONGER\nwide cell  x\n           y");
  });
});

describe("progressLines (run --wait, runs tail)", () => {
  it("says each step change once, then how the run ended", () => {
    const first = progressLines(
      nothingSeen(),
      report("running", [done("greet", t0 + 5, 3), step("say", { status: "running", attempts: 1 })]),
    );
    expect(first.lines).toEqual(["  greet (transform) success in 3ms", "  say (transform) running"]);

    const same = progressLines(
      first.seen,
      report("running", [done("greet", t0 + 5, 3), step("say", { status: "running", attempts: 1 })]),
    );
    expect(same.lines).toEqual([]);

    const failed = step("say", {
      status: "failed",
      attempts: 2,
      error: { code: "node.http_status", message: "answered 500" },
    });
    const end = progressLines(
      same.seen,
      report("failed", [done("greet", t0 + 5, 3), failed], { endedAt: t0 + 4_200, error: failed.error }),
    );
    expect(end.lines).toEqual([
      "  say (transform) failed after 2 attempt(s): node.http_status: answered 500",
      "run run_1 failed in 4.2s: node.http_status: answered 500",
    ]);
  });

  it("shows who is asked to decide, until when, and how to decide", () => {
    const asking = step("confirm", {
      type: "human",
      status: "needs_review",
      attempts: 1,
      review: {
        kind: "approval",
        round: 1,
        approvers: ["ops@example.com"],
        require: "any",
        expiresAt: t0 + 3_600_000,
        decisions: [],
        outcome: null,
        undelivered: [],
      },
    });
    const [line] = progressLines(nothingSeen(), report("needs_review", [asking])).lines;
    expect(line).toContain("confirm (human) waiting for a person (ops@example.com) until ");
    expect(line).toContain("signalbox approvals decide run_1 confirm approve|reject");
  });
});

describe("timeline (runs show)", () => {
  it("lists steps with their start from the run's creation, and the attempts of a step that failed", () => {
    const retried = step("charge", {
      type: "http",
      status: "success",
      attempts: 2,
      startedAt: t0 + 10,
      endedAt: t0 + 1_510,
      durationMs: 1_500,
      history: [
        {
          attempt: 1,
          startedAt: t0 + 10,
          endedAt: t0 + 40,
          outcome: "failure",
          durationMs: 30,
          errorCode: "node.http_status",
          errorMessage: "answered 503",
          output: null,
          contextVersion: null,
        },
        {
          attempt: 2,
          startedAt: t0 + 1_040,
          endedAt: t0 + 1_510,
          outcome: "success",
          durationMs: 470,
          errorCode: null,
          errorMessage: null,
          output: null,
          contextVersion: 2,
        },
      ],
    });
    const text = timeline(report("success", [done("greet", t0 + 2, 3), retried], { endedAt: t0 + 1_600 }));
    const lines = text.split("\n");
    expect(lines[0]).toBe("run_1  flow v2  success");
    expect(lines[1]).toMatch(/, took 1\.6s$/);
    expect(lines.slice(3)).toEqual([
      "STEP    TYPE       STATUS   START  DURATION  ATTEMPTS  NOTE",
      "greet   transform  success  +2ms   3ms       1",
      "charge  http       success  +10ms  1.5s      2",
      "  #1               failure  +10ms  30ms                node.http_status: answered 503",
      "  #2               success  +1s    470ms",
    ]);
  });
});
