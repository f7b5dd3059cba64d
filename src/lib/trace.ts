import { fnv1a } from "./hash";

/**
 * W3C trace context for runs. A run is one trace; its id is derived from the run id, so every
 * part of the system (the run object, the API, a log query) names the same trace without
 * storing it. The run is the root span, each node attempt a child span. Ids are hashes, not
 * secrets: they only correlate.
 */

function hex32(text: string): string {
  return fnv1a(text).toString(16).padStart(8, "0");
}

function nonZero(id: string): string {
  // All-zero ids are invalid in W3C trace context.
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}

export function traceIdOf(runId: string): string {
  return nonZero([1, 2, 3, 4].map((salt) => hex32(`trace:${salt}:${runId}`)).join(""));
}

export function spanIdOf(...parts: (string | number)[]): string {
  const key = parts.join(":");
  return nonZero(hex32(`span:1:${key}`) + hex32(`span:2:${key}`));
}

/** The run's own (root) span. */
export function runSpanId(runId: string): string {
  return spanIdOf(runId, "run");
}

/** One node attempt's span, a child of the run's. */
export function attemptSpanId(runId: string, nodeId: string, attempt: number): string {
  return spanIdOf(runId, nodeId, attempt);
}

/** `traceparent` header value: version 00, sampled. */
export function traceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

export interface SpanRecord {
  name: string;
  runId: string;
  nodeId?: string;
  attempt?: number;
  spanId: string;
  parentSpanId?: string;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  statusMessage?: string;
  attributes: Record<string, string | number | boolean | null>;
}

/**
 * A finished span as one structured log line, shaped after an OTLP span (ids, kind, times in
 * unix nanoseconds as strings, status, attributes), so a log pipeline can forward it to an
 * OpenTelemetry collector as it is.
 */
export function spanLine(span: SpanRecord): Record<string, unknown> {
  const traceId = traceIdOf(span.runId);
  return {
    level: "info",
    message: "span",
    runId: span.runId,
    nodeId: span.nodeId ?? null,
    attempt: span.attempt ?? null,
    traceId,
    spanId: span.spanId,
    traceparent: traceparent(traceId, span.spanId),
    span: otlpSpan(span),
  };
}

/** Several spans of one run as one log line (how a busy run writes them: one line per flush, not per step). */
export function spansLine(runId: string, spans: readonly SpanRecord[]): Record<string, unknown> {
  return {
    level: "info",
    message: "spans",
    runId,
    nodeId: null,
    attempt: null,
    traceId: traceIdOf(runId),
    spans: spans.map(otlpSpan),
  };
}

export function otlpSpan(span: SpanRecord) {
  return {
    traceId: traceIdOf(span.runId),
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? null,
    name: span.name,
    kind: "SPAN_KIND_INTERNAL",
    startTimeUnixNano: `${span.startedAt}000000`,
    endTimeUnixNano: `${span.endedAt}000000`,
    durationMs: span.endedAt - span.startedAt,
    status: span.ok ? { code: "STATUS_CODE_OK" } : { code: "STATUS_CODE_ERROR", message: span.statusMessage ?? "" },
    attributes: {
      "signalbox.run.id": span.runId,
      ...(span.nodeId !== undefined ? { "signalbox.node.id": span.nodeId } : {}),
      ...(span.attempt !== undefined ? { "signalbox.attempt": span.attempt } : {}),
      ...span.attributes,
    },
  };
}
