import type { Command } from "commander";
import { parseDuration } from "../../src/lib/duration";
import type { Api, RunSummary } from "../api";
import { usageError } from "../cli-error";
import { contextOf, jsonArgument, positiveInteger, versionOption } from "../context";
import { followRun, runExitCode } from "../follow";
import { formatDuration, formatError, formatTime, printJson, table } from "../format";
import { timeline } from "../timeline";
import { maybeFollow } from "./run";

const statuses = ["pending", "running", "waiting", "needs_review", "paused", "success", "failed", "cancelled"];

/** `--since 2h` or `--since 2026-12-01T09:00:00Z`: the earliest creation time to list. */
export function sinceTime(value: string, now = Date.now()): number {
  const ago = parseDuration(value);
  if (ago !== undefined) return now - ago;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw usageError(`--since ${value}: give a duration such as 30m or 2d, or an ISO time`);
  return at;
}

/** Newest first, page after page, until `limit` runs or one created before `since`. */
async function listRuns(
  api: Api,
  filter: { workflow?: string; status?: string; since?: number; limit: number },
): Promise<RunSummary[]> {
  const found: RunSummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api.runs({
      ...(filter.workflow ? { workflow: filter.workflow } : {}),
      // An unknown status goes to the server as given: its refusal names the statuses there are.
      ...(filter.status ? { status: filter.status as RunSummary["status"] } : {}),
      limit: Math.min(200, filter.limit - found.length),
      ...(cursor ? { cursor } : {}),
    });
    for (const run of page.runs) {
      if (filter.since !== undefined && run.createdAt < filter.since) return found;
      found.push(run);
    }
    if (!page.nextCursor || found.length >= filter.limit) return found;
    cursor = page.nextCursor;
  }
}

function printResult(json: boolean, result: unknown, line: string): void {
  if (json) printJson(result);
  else process.stdout.write(`${line}\n`);
}

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("list, inspect, follow and act on runs");

  runs
    .command("ls")
    .description("list runs, newest first")
    .option("--workflow <id>", "only this workflow's runs")
    .option("--status <status>", `only runs in this status (${statuses.join(", ")})`)
    .option("--since <when>", "only runs created since: a duration (30m, 2d) or an ISO time")
    .option("--limit <n>", "at most this many runs", "20")
    .addHelpText("after", "\nExample:\n  signalbox runs ls --workflow hello --status failed --since 1d")
    .action(async (options: { workflow?: string; status?: string; since?: string; limit: string }, command) => {
      const context = contextOf(command);
      if (options.status && !statuses.includes(options.status)) {
        throw usageError(`--status ${options.status}: use one of ${statuses.join(", ")}`);
      }
      const filter = {
        ...(options.workflow ? { workflow: options.workflow } : {}),
        ...(options.status ? { status: options.status } : {}),
        ...(options.since ? { since: sinceTime(options.since) } : {}),
        limit: positiveInteger(options.limit, "--limit"),
      };
      const found = await listRuns(await context.api(), filter);
      if (context.json) return printJson({ runs: found });
      const rows = found.map((run) => [
        run.runId,
        `${run.workflowId} v${run.version}`,
        run.status,
        formatTime(run.createdAt),
        run.endedAt === null ? "-" : formatDuration(run.endedAt - run.createdAt),
        formatError(run.error),
      ]);
      process.stdout.write(`${table(["RUN", "WORKFLOW", "STATUS", "CREATED", "TOOK", "ERROR"], rows)}\n`);
    });

  runs
    .command("show")
    .description("a run's timeline: every step and attempt with its start, duration and error")
    .argument("<run>", "the run's id")
    .addHelpText("after", "\nExample:\n  signalbox runs show run_01J...")
    .action(async (runId: string, _options, command) => {
      const context = contextOf(command);
      const report = await (await context.api()).report(runId);
      if (context.json) printJson(report);
      else process.stdout.write(`${timeline(report)}\n`);
    });

  runs
    .command("tail")
    .description("follow a run step by step until it ends; exit 1 if it does not succeed")
    .argument("<run>", "the run's id")
    .addHelpText("after", "\nExample:\n  signalbox runs tail run_01J...")
    .action(async (runId: string, _options, command) => {
      const context = contextOf(command);
      const write = (line: string) => (context.json ? process.stderr : process.stdout).write(`${line}\n`);
      const report = await followRun(await context.api(), runId, write);
      if (context.json) printJson(report);
      process.exitCode = runExitCode(report);
    });

  runs
    .command("retry")
    .description("retry a failed run from its failed steps (completed steps are not run again)")
    .argument("<run>", "the run's id")
    .option("--to-version <version>", '"latest" or a version number to move the run onto first')
    .option("--wait", "follow the run until it ends")
    .addHelpText("after", "\nExample:\n  signalbox runs retry run_01J... --to-version latest --wait")
    .action(async (runId: string, options: { toVersion?: string; wait?: boolean }, command) => {
      const context = contextOf(command);
      const api = await context.api();
      const result = await api.retry(runId, versionOption(options.toVersion));
      if (!context.json) {
        process.stdout.write(
          `run ${runId} ${result.status} on v${result.version}: ${result.restarted.join(", ")} again\n`,
        );
      }
      await maybeFollow(api, runId, { wait: options.wait, json: context.json }, result);
    });

  runs
    .command("cancel")
    .description("cancel an active run and its child runs")
    .argument("<run>", "the run's id")
    .action(async (runId: string, _options, command) => {
      const context = contextOf(command);
      const result = await (await context.api()).cancel(runId);
      printResult(context.json, result, `run ${runId} ${result.status}`);
    });

  runs
    .command("pause")
    .description("pause a run: no node starts, timers that come due are held")
    .argument("<run>", "the run's id")
    .option("--reason <text>", "why, for the run's operations log")
    .action(async (runId: string, options: { reason?: string }, command) => {
      const context = contextOf(command);
      const result = await (await context.api()).pause(runId, options.reason ? { reason: options.reason } : {});
      printResult(context.json, result, `run ${runId} ${result.status}`);
    });

  runs
    .command("resume")
    .description("resume a paused run: held timers fire, ready nodes start")
    .argument("<run>", "the run's id")
    .action(async (runId: string, _options, command) => {
      const context = contextOf(command);
      const result = await (await context.api()).resume(runId);
      printResult(context.json, result, `run ${runId} ${result.status}`);
    });

  runs
    .command("replay")
    .description("a new run from a node of an ended run: steps before it are taken from the original")
    .argument("<run>", "the original run's id")
    .requiredOption("--from <node>", "the node to run again, with everything after it")
    .option("--context <json>", "top-level context keys to replace: JSON, or @file.json")
    .option("--wait", "follow the new run until it ends")
    .addHelpText(
      "after",
      '\nExample:\n  signalbox runs replay run_01J... --from notify --context \'{"tier": "gold"}\' --wait',
    )
    .action(async (runId: string, options: { from: string; context?: string; wait?: boolean }, command) => {
      const context = contextOf(command);
      const edits = options.context === undefined ? undefined : await jsonArgument(options.context, "--context");
      const api = await context.api();
      const result = await api.replay(runId, {
        fromNode: options.from,
        // Sent as given: the server's refusal of a context that is not an object says so.
        ...(edits === undefined ? {} : { context: edits as Record<string, unknown> }),
      });
      if (!context.json) {
        const taken = result.taken.length > 0 ? ` (taken: ${result.taken.join(", ")})` : "";
        process.stdout.write(`replay ${result.runId} of ${runId} from ${options.from}: ${result.status}${taken}\n`);
      }
      await maybeFollow(api, result.runId, { wait: options.wait, json: context.json }, result);
    });
}
