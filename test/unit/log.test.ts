import { afterEach, describe, expect, it, vi } from "vitest";
import { logLine } from "../../src/lib/log";
import { attemptSpanId, runSpanId, traceIdOf } from "../../src/lib/trace";

describe("logLine", () => {
  const spy = vi.spyOn(console, "log").mockImplementation(() => {});
  afterEach(() => spy.mockClear());

  function logged(): Record<string, unknown> {
    return JSON.parse(String(spy.mock.calls.at(-1)?.[0]));
  }

  it("puts run, node and attempt ids and the trace on every line about a run", () => {
    logLine("warn", "attempt failed", { runId: "run_1", nodeId: "call", attempt: 2, error: { code: "x" } });
    expect(logged()).toEqual({
      level: "warn",
      message: "attempt failed",
      runId: "run_1",
      nodeId: "call",
      attempt: 2,
      error: { code: "x" },
      traceId: traceIdOf("run_1"),
      spanId: attemptSpanId("run_1", "call", 2),
    });
  });

  it("uses the run's span outside nodes, and nulls for what does not apply", () => {
    logLine("info", "run ended", { runId: "run_1", status: "success" });
    expect(logged()).toMatchObject({ runId: "run_1", nodeId: null, attempt: null, spanId: runSpanId("run_1") });
    logLine("error", "no run here", {});
    expect(logged()).toEqual({ level: "error", message: "no run here", runId: null, nodeId: null, attempt: null });
  });
});
