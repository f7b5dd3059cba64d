import type { CircuitStatus } from "../limits/types";
import type { LimitView } from "../limits/view";
import type { Distribution, RawMetrics, StepStats } from "../store/metrics";

/** `GET /api/metrics` as JSON: rates and shares derived from the raw D1 figures. */
export interface MetricsReport {
  window: { param: string; ms: number; from: number; to: number };
  workflowId: string | null;
  runs: {
    total: number;
    byStatus: Record<string, number>;
    byWorkflow: { workflowId: string; total: number; byStatus: Record<string, number> }[];
    /** Of the runs in the window that ended: the share that succeeded, failed. Null when none ended. */
    successRate: number | null;
    failureRate: number | null;
    /** Share of the window's runs that reached needs_review (someone was asked to decide). */
    reviewRate: number | null;
    reviewed: number;
  };
  /** From a run being created to its first step starting, in ms. */
  queueLag: Distribution;
  /** Per workflow and node: a step's duration, first attempt's start to its end (ms). */
  steps: StepStats[];
  /** Per workflow and node: one attempt's duration (ms). */
  attempts: StepStats[];
  retries: { total: number; byNode: RawMetrics["retries"] };
  deadLetters: { count: number };
  /** LLM tokens and cost of the window's runs, as each run last checkpointed its usage. */
  llm: { inputTokens: number; outputTokens: number; costUsd: number };
  /** Messages the email trigger refused in the window (GET /api/email/rejections lists them). */
  emailRejections: { total: number; byCode: Record<string, number> };
  /** Triggers flow control answered without starting a run in the window (`rateLimited`). */
  flow: { rateLimited: number };
  /**
   * Provider limits and circuits now (GET /api/limits has more): counts are since each limit's
   * first call, not over the window, and the same whichever workflow is asked for.
   */
  limits: LimitMetric[];
}

export interface LimitMetric {
  name: string;
  /** Null when the limit has no circuit. */
  circuit: CircuitStatus | null;
  opens: number;
  waiting: number;
  counts: LimitView["counts"];
}

export function limitMetrics(views: readonly LimitView[]): LimitMetric[] {
  return views.map((view) => ({
    name: view.name,
    circuit: view.circuit?.status ?? null,
    opens: view.circuit?.opens ?? 0,
    waiting: view.waiting,
    counts: view.counts,
  }));
}

/** The circuit's state as a number: 0 closed, 1 half-open, 2 open. */
const circuitLevel = { closed: 0, "half-open": 1, open: 2 } as const;

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function metricsReport(
  raw: RawMetrics,
  window: MetricsReport["window"],
  workflowId: string | undefined,
  limits: LimitMetric[] = [],
): MetricsReport {
  const byStatus: Record<string, number> = {};
  const workflows = new Map<string, { workflowId: string; total: number; byStatus: Record<string, number> }>();
  let total = 0;
  for (const row of raw.runs) {
    total += row.count;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
    const entry = workflows.get(row.workflowId) ?? { workflowId: row.workflowId, total: 0, byStatus: {} };
    entry.total += row.count;
    entry.byStatus[row.status] = (entry.byStatus[row.status] ?? 0) + row.count;
    workflows.set(row.workflowId, entry);
  }
  const ended = (byStatus.success ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
  return {
    window,
    workflowId: workflowId ?? null,
    runs: {
      total,
      byStatus,
      byWorkflow: [...workflows.values()],
      successRate: ratio(byStatus.success ?? 0, ended),
      failureRate: ratio(byStatus.failed ?? 0, ended),
      reviewRate: ratio(raw.reviewed, total),
      reviewed: raw.reviewed,
    },
    queueLag: raw.queueLag,
    steps: raw.steps,
    attempts: raw.attempts,
    retries: { total: raw.retries.reduce((sum, row) => sum + row.retries, 0), byNode: raw.retries },
    deadLetters: { count: raw.deadLetters },
    llm: raw.llm,
    emailRejections: {
      total: raw.emailRejections.reduce((sum, row) => sum + row.count, 0),
      byCode: Object.fromEntries(raw.emailRejections.map((row) => [row.code, row.count])),
    },
    flow: { rateLimited: raw.flowRefusals.find((row) => row.kind === "rate_limited")?.count ?? 0 },
    limits,
  };
}

// ---- Prometheus text exposition format 0.0.4 ------------------------------------------------

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function labels(values: Record<string, string>): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return "";
  return `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")}}`;
}

function number(value: number | null): string {
  if (value === null || Number.isNaN(value)) return "NaN";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "summary", help: string): void {
    this.lines.push(
      `# HELP ${name} ${help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
  }

  sample(name: string, values: Record<string, string>, value: number | null): void {
    this.lines.push(`${name}${labels(values)} ${number(value)}`);
  }

  summary(name: string, values: Record<string, string>, distribution: Distribution): void {
    for (const [quantile, value] of [
      ["0.5", distribution.p50],
      ["0.95", distribution.p95],
      ["0.99", distribution.p99],
    ] as const) {
      if (value !== null) this.sample(name, { ...values, quantile }, value);
    }
    this.sample(`${name}_sum`, values, distribution.sumMs);
    this.sample(`${name}_count`, values, distribution.count);
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

export function prometheusText(report: MetricsReport): string {
  const out = new Exposition();
  const stepLabels = (row: StepStats) => ({ workflow: row.workflowId, node: row.nodeId, type: row.type });
  out.family("signalbox_metrics_window_seconds", "gauge", "Length of the window every other figure covers.");
  out.sample("signalbox_metrics_window_seconds", {}, report.window.ms / 1000);
  out.family("signalbox_runs", "gauge", "Runs created in the window, by workflow and current status.");
  for (const workflow of report.runs.byWorkflow) {
    for (const [status, count] of Object.entries(workflow.byStatus)) {
      out.sample("signalbox_runs", { workflow: workflow.workflowId, status }, count);
    }
  }
  out.family("signalbox_run_success_ratio", "gauge", "Of the window's runs that ended, the share that succeeded.");
  out.sample("signalbox_run_success_ratio", {}, report.runs.successRate);
  out.family("signalbox_run_failure_ratio", "gauge", "Of the window's runs that ended, the share that failed.");
  out.sample("signalbox_run_failure_ratio", {}, report.runs.failureRate);
  out.family("signalbox_run_review_ratio", "gauge", "Share of the window's runs that reached needs_review.");
  out.sample("signalbox_run_review_ratio", {}, report.runs.reviewRate);
  out.family("signalbox_queue_lag_ms", "summary", "Milliseconds from a run being created to its first step starting.");
  out.summary("signalbox_queue_lag_ms", {}, report.queueLag);
  out.family(
    "signalbox_step_duration_ms",
    "summary",
    "Step duration in milliseconds, first attempt's start to the step's end (retries and reviews included).",
  );
  for (const row of report.steps) out.summary("signalbox_step_duration_ms", stepLabels(row), row);
  out.family("signalbox_attempt_duration_ms", "summary", "Duration of one node attempt in milliseconds.");
  for (const row of report.attempts) out.summary("signalbox_attempt_duration_ms", stepLabels(row), row);
  out.family("signalbox_step_retries", "gauge", "Attempts beyond the first, by workflow and node, in the window.");
  for (const row of report.retries.byNode) {
    out.sample("signalbox_step_retries", { workflow: row.workflowId, node: row.nodeId }, row.retries);
  }
  out.family("signalbox_dead_letters", "gauge", "Failed runs waiting for someone (GET /api/dead-letters), any age.");
  out.sample("signalbox_dead_letters", {}, report.deadLetters.count);
  out.family(
    "signalbox_llm_tokens",
    "gauge",
    "LLM tokens used by the window's runs (0 until LLM usage is checkpointed to D1).",
  );
  out.sample("signalbox_llm_tokens", { direction: "input" }, report.llm.inputTokens);
  out.sample("signalbox_llm_tokens", { direction: "output" }, report.llm.outputTokens);
  out.family(
    "signalbox_llm_cost_usd",
    "gauge",
    "LLM cost in US dollars of the window's runs (0 until LLM usage is checkpointed to D1).",
  );
  out.sample("signalbox_llm_cost_usd", {}, report.llm.costUsd);
  out.family("signalbox_email_rejections", "gauge", "Messages the email trigger refused in the window, by code.");
  for (const [code, count] of Object.entries(report.emailRejections.byCode)) {
    out.sample("signalbox_email_rejections", { code }, count);
  }
  out.family("signalbox_flow_rate_limited", "gauge", "Triggers the workflows' rate limits refused in the window.");
  out.sample("signalbox_flow_rate_limited", {}, report.flow.rateLimited);
  limitFamilies(out, report.limits);
  return out.text();
}

function limitFamilies(out: Exposition, limits: readonly LimitMetric[]): void {
  out.family("signalbox_circuit_state", "gauge", "A limit's circuit breaker: 0 closed, 1 half-open, 2 open.");
  for (const limit of limits) {
    if (limit.circuit) out.sample("signalbox_circuit_state", { limit: limit.name }, circuitLevel[limit.circuit]);
  }
  out.family("signalbox_circuit_opens_total", "counter", "Times a limit's circuit has opened.");
  for (const limit of limits) {
    if (limit.circuit) out.sample("signalbox_circuit_opens_total", { limit: limit.name }, limit.opens);
  }
  out.family("signalbox_limit_calls_total", "counter", "Calls a provider limit let through.");
  for (const limit of limits) out.sample("signalbox_limit_calls_total", { limit: limit.name }, limit.counts.calls);
  out.family(
    "signalbox_limit_deferrals_total",
    "counter",
    "Times a step was told to wait by a limit: for its turn (rate), a provider's Retry-After, an open circuit.",
  );
  for (const limit of limits) {
    for (const [reason, count] of Object.entries(limit.counts.deferred)) {
      out.sample("signalbox_limit_deferrals_total", { limit: limit.name, reason }, count);
    }
  }
  out.family("signalbox_limit_waiting", "gauge", "Calls holding a turn under a limit that has not come yet.");
  for (const limit of limits) out.sample("signalbox_limit_waiting", { limit: limit.name }, limit.waiting);
}
