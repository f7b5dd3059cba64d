import { attemptSpanId, runSpanId, traceIdOf } from "./trace";

/**
 * One structured JSON log line. Lines about a run always carry `runId`, `nodeId` and `attempt`
 * (null where they do not apply) and the run's trace and span ids, so a log query for a run, a
 * step or one attempt finds every line, and a trace viewer can place them.
 */
export function logLine(level: string, message: string, fields: Record<string, unknown> = {}): void {
  const runId = typeof fields.runId === "string" ? fields.runId : null;
  const nodeId = typeof fields.nodeId === "string" ? fields.nodeId : null;
  const attempt = typeof fields.attempt === "number" ? fields.attempt : null;
  const trace =
    runId === null
      ? {}
      : {
          traceId: traceIdOf(runId),
          spanId: nodeId !== null && attempt !== null ? attemptSpanId(runId, nodeId, attempt) : runSpanId(runId),
        };
  console.log(JSON.stringify({ level, message, ...fields, runId, nodeId, attempt, ...trace }));
}
