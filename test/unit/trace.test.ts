import { describe, expect, it } from "vitest";
import { attemptSpanId, runSpanId, spanLine, spansLine, traceIdOf, traceparent } from "../../src/lib/trace";

describe("trace context of a run", () => {
  it("derives stable W3C ids from the run id", () => {
    const trace = traceIdOf("run_01");
    expect(trace).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf("run_01")).toBe(trace);
    expect(traceIdOf("run_02")).not.toBe(trace);
    expect(runSpanId("run_01")).toMatch(/^[0-9a-f]{16}$/);
    expect(attemptSpanId("run_01", "a", 1)).not.toBe(attemptSpanId("run_01", "a", 2));
    expect(traceparent(trace, runSpanId("run_01"))).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("writes a span as an OTLP-shaped log record", () => {
    const line = spanLine({
      name: "node fetch",
      runId: "run_01",
      nodeId: "fetch",
      attempt: 2,
      spanId: attemptSpanId("run_01", "fetch", 2),
      parentSpanId: runSpanId("run_01"),
      startedAt: 1_000,
      endedAt: 1_250,
      ok: false,
      statusMessage: "node.http_status",
      attributes: { "signalbox.node.type": "http" },
    });
    expect(line).toMatchObject({
      message: "span",
      runId: "run_01",
      nodeId: "fetch",
      attempt: 2,
      traceId: traceIdOf("run_01"),
      span: {
        traceId: traceIdOf("run_01"),
        parentSpanId: runSpanId("run_01"),
        startTimeUnixNano: "1000000000",
        endTimeUnixNano: "1250000000",
        durationMs: 250,
        status: { code: "STATUS_CODE_ERROR", message: "node.http_status" },
      },
    });
  });

  it("writes several spans of a run as one line", () => {
    const span = {
      name: "node a",
      runId: "run_01",
      nodeId: "a",
      attempt: 1,
      spanId: attemptSpanId("run_01", "a", 1),
      startedAt: 1,
      endedAt: 2,
      ok: true,
      attributes: {},
    };
    const line = spansLine("run_01", [span, { ...span, attempt: 2, spanId: attemptSpanId("run_01", "a", 2) }]);
    expect(line).toMatchObject({ message: "spans", runId: "run_01", traceId: traceIdOf("run_01") });
    expect((line.spans as { attributes: Record<string, unknown> }[]).map((entry) => entry.attributes)).toEqual([
      { "signalbox.run.id": "run_01", "signalbox.node.id": "a", "signalbox.attempt": 1 },
      { "signalbox.run.id": "run_01", "signalbox.node.id": "a", "signalbox.attempt": 2 },
    ]);
  });
});
