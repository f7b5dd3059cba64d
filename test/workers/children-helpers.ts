import { env } from "cloudflare:workers";
import { isTerminalRun, type RunStatus } from "../../src/engine/state";
import type { ExecutionReport } from "../../src/run/report";
import { runStub } from "../../src/triggers/start-run";

/** A report's child runs that are out now, over every step. */
export function runningChildren(report: ExecutionReport): string[] {
  return report.steps.flatMap((step) => step.children?.running ?? []);
}

/**
 * Waits for a run and its whole tree of child runs to stop moving: each round waits for the
 * run's in-flight work (which includes its calls to start children), then for each child out
 * (whose idle includes its report to the parent), until the run ended or a round changed
 * nothing (a child waiting for an event or a timer). No timers, no sleeps.
 */
export async function settleTree(runId: string): Promise<ExecutionReport> {
  let previous = "";
  for (;;) {
    await runStub(env, runId).idle();
    const report = await runStub(env, runId).report();
    if (!report) throw new Error(`no run ${runId}`);
    const running = runningChildren(report);
    const fingerprint = JSON.stringify([report.status, report.steps.map((step) => step.children)]);
    if (isTerminalRun(report.status as RunStatus) || running.length === 0 || fingerprint === previous) return report;
    previous = fingerprint;
    await Promise.all(running.map((child) => settleTree(child)));
  }
}

export async function reportOf(runId: string): Promise<ExecutionReport> {
  const report = await runStub(env, runId).report();
  if (!report) throw new Error(`no run ${runId}`);
  return report;
}

export const double = {
  nodes: [{ id: "double", type: "transform", config: { set: { value: "input * 2" } } }],
  output: "value",
};

/** An inline body that fails for the items listed (a transform whose expression throws). */
export function failingFor(indices: number[]) {
  return {
    nodes: [
      {
        id: "work",
        type: "transform",
        config: { set: { value: `input in [${indices.join(",")}] ? $error("item " & input & " broke") : input * 2` } },
      },
    ],
    output: "value",
  };
}
