import type { Command } from "commander";
import { contextOf, jsonArgument, positiveInteger, versionOption } from "../context";
import { formatError, formatTime, printJson, table } from "../format";
import { maybeFollow } from "./run";

export function registerEvents(program: Command): void {
  const events = program.command("events").description("named events that start subscribed workflows");
  events
    .command("publish")
    .description("publish an event to every workflow subscribed to its name")
    .argument("<name>", "the event's name, such as file.reprocess")
    .option("--payload <json>", "the event's payload: JSON, or @file.json")
    .option("--id <id>", "the event's id: the same id starts nothing twice")
    .addHelpText(
      "after",
      `\nExample:\n  signalbox events publish file.reprocess --payload '{"key": "inbox/hello.txt"}' --id e-1`,
    )
    .action(async (name: string, options: { payload?: string; id?: string }, command) => {
      const context = contextOf(command);
      const payload = options.payload === undefined ? undefined : await jsonArgument(options.payload, "--payload");
      const result = await (await context.api()).publish({
        name,
        ...(options.id ? { id: options.id } : {}),
        ...(payload === undefined ? {} : { payload }),
      });
      if (context.json) return printJson(result);
      process.stdout.write(`event ${result.eventId} (${name}): ${result.runs.length} subscribed workflow(s)\n`);
      if (result.runs.length === 0) return;
      const rows = result.runs.map((run) => [run.workflowId, run.status, run.runId ?? "-", formatError(run.error)]);
      process.stdout.write(`${table(["WORKFLOW", "STATUS", "RUN", "ERROR"], rows)}\n`);
    });

  const deadLetters = program
    .command("dead-letters")
    .description("failed runs whose steps used up their attempts, and requeuing them");
  deadLetters
    .command("ls")
    .description("dead letters, newest first, with the step that ran out and its error")
    .option("--workflow <id>", "only this workflow's runs")
    .option("--limit <n>", "at most this many", "50")
    .addHelpText("after", "\nExample:\n  signalbox dead-letters ls --workflow checkout")
    .action(async (options: { workflow?: string; limit: string }, command) => {
      const context = contextOf(command);
      const page = await (await context.api()).deadLetters({
        limit: Math.min(200, positiveInteger(options.limit, "--limit")),
        ...(options.workflow ? { workflow: options.workflow } : {}),
      });
      if (context.json) return printJson(page);
      const rows = page.deadLetters.map((entry) => [
        entry.runId,
        `${entry.workflowId} v${entry.version}`,
        formatTime(entry.failedAt),
        entry.nodes.map((node) => `${node.nodeId} (${node.attempts} attempts)`).join(", "),
        formatError(entry.error),
      ]);
      process.stdout.write(`${table(["RUN", "WORKFLOW", "FAILED", "STEPS", "ERROR"], rows)}\n`);
      process.stdout.write(`${page.count} dead letter(s) in all\n`);
    });
  deadLetters
    .command("requeue")
    .description("retry a dead letter from its failed steps, recorded as a requeue")
    .argument("<run>", "the failed run's id")
    .option("--to-version <version>", '"latest" or a version number to move the run onto first')
    .option("--wait", "follow the run until it ends")
    .addHelpText("after", "\nExample:\n  signalbox dead-letters requeue run_01J... --to-version latest --wait")
    .action(async (runId: string, options: { toVersion?: string; wait?: boolean }, command) => {
      const context = contextOf(command);
      const api = await context.api();
      const result = await api.requeue(runId, versionOption(options.toVersion));
      if (!context.json) {
        process.stdout.write(`run ${runId} requeued on v${result.version}: ${result.restarted.join(", ")} again\n`);
      }
      await maybeFollow(api, runId, { wait: options.wait, json: context.json }, result);
    });
}
