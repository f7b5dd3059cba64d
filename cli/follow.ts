import { setTimeout as sleep } from "node:timers/promises";
import type { Api, ExecutionReport } from "./api";
import { exitCodes } from "./cli-error";
import { endedStatuses, nothingSeen, progressLines } from "./progress";

/** How often a followed run is read; a run's steps commit in milliseconds, a person in hours. */
const pollMs = 500;

/**
 * Reads the run's report until it ends, writing a progress line for every change. Resolves to
 * the final report. Polling the report is the API's way to follow a run today.
 */
export async function followRun(
  api: Api,
  runId: string,
  write: (line: string) => void,
  options: { intervalMs?: number } = {},
): Promise<ExecutionReport> {
  let seen = nothingSeen();
  for (;;) {
    const report = await api.report(runId);
    const next = progressLines(seen, report);
    for (const line of next.lines) write(line);
    seen = next.seen;
    if (endedStatuses.has(report.status)) return report;
    await sleep(options.intervalMs ?? pollMs);
  }
}

/** A followed run's exit code: 0 only for success. */
export function runExitCode(report: ExecutionReport): number {
  return report.status === "success" ? exitCodes.ok : exitCodes.failure;
}
