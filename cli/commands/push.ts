import type { Command } from "commander";
import { exitCodes } from "../cli-error";
import { contextOf } from "../context";
import { printJson, table } from "../format";
import { type PushOutcome, type PushResult, pushWorkflows } from "../push";
import { printIssues } from "./validate";

function describe(result: PushResult, dryRun: boolean): string {
  switch (result.status) {
    case "created":
      return dryRun ? "would be created" : `created v${result.version}`;
    case "updated":
      return dryRun ? `would be a new version (now v${result.version})` : `new version v${result.version}`;
    case "unchanged":
      return `unchanged v${result.version}`;
    case "skipped":
      return "skipped: an earlier registration failed";
    case "failed":
      return `failed: ${result.error}`;
  }
}

function printPush(outcome: PushOutcome, write: (line: string) => void): void {
  if (outcome.issues.length > 0) return;
  const rows = outcome.results.map((result) => [result.file, result.workflowId, describe(result, outcome.dryRun)]);
  write(table(["FILE", "WORKFLOW", "RESULT"], rows));
}

export function registerPush(program: Command): void {
  program
    .command("push")
    .description(
      "register every workflow file, callees first; nothing is registered if any file is invalid or calls a missing workflow",
    )
    .argument("[paths...]", "workflow files or folders of *.json", ["workflows"])
    .option("--dry-run", "check everything against the server and say what would happen, registering nothing")
    .addHelpText(
      "after",
      "\nExamples:\n  signalbox push\n  signalbox push workflows/ --dry-run\n  SIGNALBOX_URL=https://signalbox.example.workers.dev signalbox push",
    )
    .action(async (paths: string[], options: { dryRun?: boolean }, command: Command) => {
      const context = contextOf(command);
      const outcome = await pushWorkflows(await context.api(), paths, { dryRun: options.dryRun === true });
      if (context.json) {
        const { files: _files, ...rest } = outcome;
        printJson(rest);
      } else if (outcome.issues.length > 0) {
        printIssues(outcome.issues);
        process.stderr.write("nothing was registered: fix the files above and push again\n");
      } else {
        printPush(outcome, (text) => process.stdout.write(`${text}\n`));
        if (!outcome.ok)
          process.stderr.write("the push stopped at the failure above; the files before it are registered\n");
      }
      process.exitCode = outcome.ok ? exitCodes.ok : exitCodes.failure;
    });
}
