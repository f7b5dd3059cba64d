import type { ExecutionReport } from "../src/run/report";
import { formatDuration, formatError, formatTime } from "./format";

type Step = ExecutionReport["steps"][number];

export const endedStatuses: ReadonlySet<string> = new Set(["success", "failed", "cancelled"]);

/** What has been said about a run so far: each step's last state, and the run's. */
export interface Seen {
  run: string | undefined;
  steps: Map<string, string>;
}

export function nothingSeen(): Seen {
  return { run: undefined, steps: new Map() };
}

/** A step changes when its status, attempt or review round does; reruns of one attempt say nothing new. */
function stateKey(step: Step): string {
  return `${step.status}:${step.attempts}:${step.review?.round ?? ""}`;
}

function stepLine(report: ExecutionReport, step: Step): string | undefined {
  const head = `${step.nodeId} (${step.type})`;
  const attempt = step.attempts > 1 ? ` attempt ${step.attempts}` : "";
  switch (step.status) {
    case "running":
      return `${head} running${attempt}`;
    case "success":
      return step.replayedFrom
        ? `${head} taken from ${step.replayedFrom.runId}`
        : `${head} success in ${formatDuration(step.durationMs)}`;
    case "failed":
      return `${head} failed after ${step.attempts} attempt(s): ${formatError(step.error)}`;
    case "skipped":
      return `${head} skipped`;
    case "cancelled":
      return `${head} cancelled`;
    case "needs_review": {
      const review = step.review;
      if (!review) return `${head} needs review`;
      const who = review.approvers.join(", ");
      return `${head} waiting for a person (${who}) until ${formatTime(review.expiresAt)}: signalbox approvals decide ${report.runId} ${step.nodeId} approve|reject`;
    }
    case "waiting":
      return step.awaiting
        ? `${head} waiting for event "${step.awaiting.event}" until ${formatTime(step.awaiting.until)}`
        : `${head} waiting`;
    case "pending":
      return undefined;
    default:
      return `${head} ${step.status}`;
  }
}

/**
 * The progress lines one new report adds to what was already said: a line per step whose
 * state changed, and one when the run's own status does (paused, ended). Pure, so
 * `run --wait` and `runs tail` print the same thing for the same history.
 */
export function progressLines(seen: Seen, report: ExecutionReport): { lines: string[]; seen: Seen } {
  const lines: string[] = [];
  const steps = new Map(seen.steps);
  for (const step of report.steps) {
    const key = stateKey(step);
    if (steps.get(step.nodeId) === key) continue;
    steps.set(step.nodeId, key);
    const line = stepLine(report, step);
    if (line) lines.push(`  ${line}`);
  }
  if (report.status !== seen.run) {
    if (endedStatuses.has(report.status)) lines.push(runEndLine(report));
    else if (report.status === "paused" || seen.run === "paused") lines.push(`run ${report.runId} ${report.status}`);
  }
  return { lines, seen: { run: report.status, steps } };
}

function runEndLine(report: ExecutionReport): string {
  const took = report.endedAt !== null ? ` in ${formatDuration(report.endedAt - report.createdAt)}` : "";
  const error = report.status === "failed" ? `: ${formatError(report.error)}` : "";
  return `run ${report.runId} ${report.status}${took}${error}`;
}
