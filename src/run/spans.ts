import type { NodeOutcome } from "../engine/outcome";
import type { PlanNode } from "../engine/plan";
import type { RunState } from "../engine/state";
import { attemptSpanId, runSpanId, type SpanRecord, spanLine, spansLine, traceIdOf, traceparent } from "../lib/trace";

/**
 * Spans of a run, written as structured log lines (src/lib/trace.ts): one per node attempt, one
 * for the run when it ends. By default they are buffered and written together when the run's
 * checkpoints are flushed (when it goes idle, or at least every 500 ms while busy): a log line
 * per step cost as much as the step itself under `wrangler dev`. `TRACE_SPANS = "each"` writes a
 * line per span, "off" none. A crash loses the spans not yet written; the report keeps the trace.
 */
export type SpanMode = "batch" | "each" | "off";

export function spanMode(value: unknown): SpanMode {
  return value === "each" || value === "off" ? value : "batch";
}

/** Spans written per line at most, so a long run's line stays well under log size limits. */
const maxPerLine = 100;
/**
 * Spans held at most before they are written mid-run. Writing them as soon as a line was full
 * put a 100-span line in the middle of a chain of steps (the benchmark's slope found it); the
 * checkpoint flush, at most 500 ms apart while the run is busy, normally empties the buffer first.
 */
const maxBuffered = 1_000;

export class SpanLog {
  private readonly mode: SpanMode;
  private buffer: SpanRecord[] = [];

  constructor(mode: SpanMode) {
    this.mode = mode;
  }

  attempt(
    state: RunState,
    node: PlanNode,
    attempt: number,
    startedAt: number,
    outcome: NodeOutcome,
    endedAt = Date.now(),
    compensate = false,
  ): void {
    const error = outcome.type === "failure" ? outcome.error : undefined;
    this.add({
      name: compensate ? `compensate ${node.id}` : `node ${node.id}`,
      runId: state.runId,
      nodeId: node.id,
      attempt,
      spanId: attemptSpanId(state.runId, compensate ? compensationSpanKey(node.id) : node.id, attempt),
      parentSpanId: runSpanId(state.runId),
      startedAt,
      endedAt,
      ok: error === undefined,
      ...(error ? { statusMessage: `${error.code}: ${error.message}` } : {}),
      attributes: {
        "signalbox.workflow.id": state.workflowId,
        "signalbox.workflow.version": state.version,
        "signalbox.node.type": node.type,
        "signalbox.outcome": outcome.type,
        "error.type": error?.code ?? null,
      },
    });
  }

  run(state: RunState): void {
    this.add({
      name: `run ${state.workflowId}`,
      runId: state.runId,
      spanId: runSpanId(state.runId),
      startedAt: state.startedAt ?? state.createdAt,
      endedAt: state.endedAt ?? state.updatedAt,
      ok: state.status === "success",
      ...(state.error ? { statusMessage: `${state.error.code}: ${state.error.message}` } : {}),
      attributes: {
        "signalbox.workflow.id": state.workflowId,
        "signalbox.workflow.version": state.version,
        "signalbox.run.status": state.status,
        "error.type": state.error?.code ?? null,
      },
    });
    this.flush();
  }

  flush(): void {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, maxPerLine);
      const runId = batch[0]?.runId as string;
      console.log(JSON.stringify(spansLine(runId, batch)));
    }
  }

  private add(span: SpanRecord): void {
    if (this.mode === "off") return;
    if (this.mode === "each") {
      console.log(JSON.stringify(spanLine(span)));
      return;
    }
    this.buffer.push(span);
    if (this.buffer.length >= maxBuffered) this.flush();
  }
}

/** The request with the attempt's `traceparent`, unless the node set one itself. */
export function tracedFetch(request: Request, runId: string, nodeId: string, attempt: number): Request {
  if (request.headers.has("traceparent")) return request;
  const traced = new Request(request);
  traced.headers.set("traceparent", traceparent(traceIdOf(runId), attemptSpanId(runId, nodeId, attempt)));
  return traced;
}

/** A compensation's attempts are spans of their own, apart from the step's attempts of the same number. */
export function compensationSpanKey(nodeId: string): string {
  return `${nodeId}:compensate`;
}
