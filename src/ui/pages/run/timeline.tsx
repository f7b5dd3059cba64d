import { raw } from "hono/html";
import { escapeHtml } from "../../../lib/html";
import type { AttemptReport, ExecutionReport, StepReport } from "../../../run/report";
import { StatusBadge } from "../../components/status-badge";
import { formatDuration } from "../../format";

const scale = 1000;

interface Span {
  start: number;
  end: number;
}

/** The run's time span: every bar is placed on it, so rows line up as a waterfall. */
export function runSpan(report: ExecutionReport, now: number): Span {
  let start = report.startedAt ?? report.createdAt;
  let end = report.endedAt ?? now;
  for (const step of report.steps) {
    for (const attempt of step.history) {
      start = Math.min(start, attempt.startedAt);
      end = Math.max(end, attempt.endedAt ?? now);
    }
  }
  return { start, end: Math.max(end, start + 1) };
}

/** Hundredths of the scale are finer than any screen: shorter numbers, a smaller page. */
function at(span: Span, time: number): number {
  return Math.round(((time - span.start) / (span.end - span.start)) * scale * 100) / 100;
}

/** Why a step sat between attempts, or after its last one: the gap is drawn as its own mark. */
function waitReason(step: StepReport, attempt: AttemptReport): string {
  if (attempt.outcome === "await-review" || attempt.outcome === "escalated") return "waiting for a person";
  if (attempt.outcome === "await-event") return "waiting for an event";
  if (attempt.outcome === "await-children") return "waiting for child runs";
  if (attempt.outcome === "sleep") return "sleeping";
  if (attempt.outcome === "failure") return "retry backoff";
  return step.review ? "waiting for a person" : "waiting";
}

/**
 * A step's bars as one SVG string, every text escaped: a run can have thousands of attempts,
 * and building an element tree per mark cost ten times the JSON report (docs/benchmarks.md).
 */
export function barsSvg(step: StepReport, span: Span, now: number): string {
  let marks = "";
  for (const [index, attempt] of step.history.entries()) {
    const end = attempt.endedAt ?? now;
    const next = step.history[index + 1];
    const gapEnd = next ? next.startedAt : step.endedAt;
    if (gapEnd !== null && gapEnd !== undefined && gapEnd > end) {
      const title = `${waitReason(step, attempt)}: ${formatDuration(gapEnd - end)}`;
      marks += `<line class="gap" x1="${at(span, end)}" x2="${at(span, gapEnd)}" y1="9" y2="9"><title>${escapeHtml(title)}</title></line>`;
    }
    const x = at(span, attempt.startedAt);
    const outcome = attempt.endedAt === undefined ? "running" : (attempt.outcome ?? "running");
    const width = Math.max(3, Math.round((at(span, end) - x) * 100) / 100);
    const title = `attempt ${attempt.attempt}: ${outcome}, ${formatDuration(end - attempt.startedAt)}${attempt.errorCode ? ` (${attempt.errorCode})` : ""}`;
    marks += `<rect class="bar o-${escapeHtml(outcome)}" x="${x}" y="2" width="${width}" height="14" data-attempt="${attempt.attempt}"><title>${escapeHtml(title)}</title></rect>`;
  }
  return `<svg viewBox="0 0 ${scale} 18" preserveAspectRatio="none" aria-hidden="true">${marks}</svg>`;
}

/** One row per step, one bar per attempt, gaps (backoff, waits) as dashed marks between. */
export function Timeline(props: {
  report: ExecutionReport;
  now: number;
  selected?: string | undefined;
  hrefOf: (nodeId: string) => string;
}) {
  const span = runSpan(props.report, props.now);
  return (
    <div class="table-wrap">
      <table class="timeline">
        <caption>
          Timeline: {formatDuration(span.end - span.start)} from the first attempt; hover a bar for its attempt
        </caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col" class="hide-narrow">
              Attempts
            </th>
            <th scope="col">Time</th>
            <th scope="col" class="hide-narrow">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          {props.report.steps.map((step) => (
            <tr
              data-step={step.nodeId}
              data-status={step.status}
              class={step.nodeId === props.selected ? "selected" : undefined}
            >
              <td>
                <a class="step-link" href={props.hrefOf(step.nodeId)}>
                  {step.nodeId}
                </a>
                <div class="note">{step.type}</div>
              </td>
              <td>
                <StatusBadge status={step.status} />
                {step.skip ? <div class="note">{skipNote(step.skip.reason)}</div> : null}
              </td>
              <td class="hide-narrow">{step.attempts}</td>
              <td class="bars">{raw(barsSvg(step, span, props.now))}</td>
              <td class="hide-narrow">{formatDuration(step.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Why a step never ran when the run ended before reaching it (an untaken branch has no note). */
export function skipNote(reason: string): string {
  if (reason === "run.failed") return "the run failed first";
  if (reason === "run.cancelled") return "the run was cancelled first";
  return reason;
}
