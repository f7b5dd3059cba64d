import { describe, expect, it } from "vitest";
import { attemptSpanId, traceIdOf, traceparent } from "../../src/lib/trace";
import { register, settle, startManual } from "./helpers";
import { fireAlarm, testServer } from "./support";

describe("the run trace", () => {
  it("reports every attempt with times, duration, outcome, error, the version it read and what it produced", async () => {
    const id = "ops-trace";
    const path = `/${id}/flaky`;
    await testServer.script(path, [{ status: 503 }, { status: 200, body: { ok: 1 } }]);
    await register({
      id,
      name: id,
      nodes: [
        { id: "prep", type: "transform", config: { set: { n: "1" } } },
        {
          id: "call",
          type: "http",
          config: { url: `${testServer.url}${path}`, output: "result", map: "body" },
          retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "1h" },
        },
      ],
      edges: [{ from: "prep", to: "call" }],
    });
    const runId = await startManual(id);
    await settle(runId);
    await fireAlarm(runId);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    const call = report.steps.find((step) => step.nodeId === "call");
    expect(call?.history).toEqual([
      {
        attempt: 1,
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
        durationMs: expect.any(Number),
        outcome: "failure",
        error: expect.objectContaining({ code: "node.http_status" }),
        errorCode: "node.http_status",
        errorMessage: expect.stringContaining("answered 503"),
        inputVersion: 1,
        output: null,
        contextVersion: null,
      },
      {
        attempt: 2,
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
        durationMs: expect.any(Number),
        outcome: "success",
        errorCode: null,
        errorMessage: null,
        inputVersion: 1,
        output: { result: { ok: 1 } },
        contextVersion: 2,
      },
    ]);
    for (const entry of call?.history ?? []) expect(entry.durationMs).toBe((entry.endedAt ?? 0) - entry.startedAt);

    // Each request carries its attempt's span as W3C trace context.
    const headers = (await testServer.requests(path)).map((request) => request.headers.traceparent);
    expect(headers).toEqual([
      traceparent(traceIdOf(runId), attemptSpanId(runId, "call", 1)),
      traceparent(traceIdOf(runId), attemptSpanId(runId, "call", 2)),
    ]);
  });
});
