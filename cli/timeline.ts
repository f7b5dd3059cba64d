import type { ExecutionReport } from "../src/run/report";
import { formatDuration, formatError, formatOffset, formatTime, table } from "./format";

/**
 * `runs show`: the run's header, then one row per step with its start relative to the run's
 * creation, its duration and attempts; a step that took more than one attempt, or failed,
 * gets a row per attempt beneath it.
 */
export function timeline(report: ExecutionReport): string {
  const origin = report.createdAt;
  const took = report.endedAt !== null ? `, took ${formatDuration(report.endedAt - origin)}` : "";
  const header = [
    `${report.runId}  ${report.workflowId} v${report.version}  ${report.status}`,
    `created ${formatTime(origin)}${took}`,
  ];
  if (report.replayOf) header.push(`replay of ${report.replayOf.runId} from ${report.replayOf.fromNode}`);
  if (report.parent) header.push(`child of ${report.parent.runId} (step ${report.parent.nodeId})`);
  if (report.paused)
    header.push(
      `paused since ${formatTime(report.paused.at)}${report.paused.reason ? `: ${report.paused.reason}` : ""}`,
    );
  if (report.error) header.push(`error: ${formatError(report.error)}`);

  const rows: string[][] = [];
  for (const step of report.steps) {
    rows.push([
      step.nodeId,
      step.type,
      step.status,
      formatOffset(step.startedAt, origin),
      formatDuration(step.durationMs),
      String(step.attempts),
      note(step),
    ]);
    const showAttempts =
      step.history.length > 1 ||
      step.history.some((entry) => entry.outcome === "failure" || entry.outcome === "interrupted");
    if (!showAttempts) continue;
    for (const entry of step.history) {
      const error = entry.errorCode ? `${entry.errorCode}: ${entry.errorMessage ?? ""}` : "";
      rows.push([
        `  #${entry.attempt}`,
        "",
        entry.outcome ?? "running",
        formatOffset(entry.startedAt, origin),
        formatDuration(entry.durationMs),
        "",
        error,
      ]);
    }
  }
  return `${header.join("\n")}\n\n${table(["STEP", "TYPE", "STATUS", "START", "DURATION", "ATTEMPTS", "NOTE"], rows)}`;
}

type Step = ExecutionReport["steps"][number];

/** The one thing worth knowing about a step beyond its status. */
function note(step: Step): string {
  if (step.status === "failed") return formatError(step.error);
  if (step.status === "needs_review" && step.review) {
    return `waiting for ${step.review.approvers.join(", ")} until ${formatTime(step.review.expiresAt)}`;
  }
  if (step.awaiting) return `waiting for event "${step.awaiting.event}" until ${formatTime(step.awaiting.until)}`;
  if (step.replayedFrom) return `taken from ${step.replayedFrom.runId}`;
  if (step.children) return `${step.children.succeeded}/${step.children.total} child runs succeeded`;
  return "";
}
