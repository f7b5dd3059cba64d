import type { Command } from "commander";
import type { Api } from "../api";
import { contextOf, jsonArgument } from "../context";
import { followRun, runExitCode } from "../follow";
import { printJson } from "../format";

/**
 * After a command that starts or restarts a run: follow it to its end with `--wait` (progress
 * on stderr, so `--json` leaves stdout to the final report), or say how to follow it.
 */
export async function maybeFollow(
  api: Api,
  runId: string,
  options: { wait?: boolean | undefined; json: boolean },
  started: unknown,
): Promise<void> {
  if (!options.wait) {
    if (options.json) printJson(started);
    else process.stdout.write(`follow it: signalbox runs tail ${runId}\n`);
    return;
  }
  const write = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const report = await followRun(api, runId, write);
  if (options.json) printJson(report);
  process.exitCode = runExitCode(report);
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("start a run of a workflow; with --wait, follow it step by step until it ends")
    .argument("<workflow>", "the workflow's id")
    .option("--input <json>", "the run's input: JSON, or @file.json", "{}")
    .option("--idempotency-key <key>", "start at most one run for this key")
    .option("--wait", "follow the run until it ends; exit 1 if it does not succeed")
    .addHelpText(
      "after",
      `\nExamples:\n  signalbox run hello --input '{"name": "Ada"}' --wait\n  signalbox run greet-many --input @names.json`,
    )
    .action(
      async (workflowId: string, options: { input: string; idempotencyKey?: string; wait?: boolean }, command) => {
        const context = contextOf(command);
        const input = await jsonArgument(options.input, "--input");
        const api = await context.api();
        const started = await api.startRun(workflowId, {
          input,
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        });
        // A trigger refused by the workflow's flow (rate_limited, or skipped by its singleton) starts no run.
        if (started.runId === undefined) {
          if (context.json) printJson(started);
          else process.stdout.write(`no run of ${workflowId} started: ${started.status}\n`);
          if (options.wait) process.exitCode = 1;
          return;
        }
        if (!context.json) {
          const version = started.version === undefined ? "" : ` v${started.version}`;
          process.stdout.write(`run ${started.runId} of ${workflowId}${version}: ${started.status}\n`);
        }
        await maybeFollow(api, started.runId, { wait: options.wait, json: context.json }, started);
      },
    );
}
