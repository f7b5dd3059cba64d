import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { TestRun } from "../api";
import { CliError, exitCodes } from "../cli-error";
import { contextOf } from "../context";
import { printJson } from "../format";
import { checkWorkflowFiles } from "../workflow-files";
import { printIssues } from "./validate";

function shown(value: unknown): string {
  return JSON.stringify(value) ?? "undefined";
}

export function printTestRun(run: TestRun, write: (line: string) => void): void {
  for (const result of run.results) {
    write(`${result.passed ? "passed" : "FAILED"}  ${result.name}`);
    for (const failure of result.failures) {
      const difference =
        "expected" in failure || "actual" in failure
          ? ` (expected ${shown(failure.expected)}, got ${shown(failure.actual)})`
          : "";
      write(`    ${failure.check}: ${failure.message}${difference}`);
    }
  }
  write(`${run.passed} passed, ${run.failed} failed`);
}

export function registerTest(program: Command): void {
  program
    .command("test")
    .description("run a definition's test cases through the dry-run API (nothing is sent or recorded)")
    .argument("<workflow>", "a registered workflow's id, or a workflow file (tested without registering it)")
    .option("--only <names...>", "only these test cases")
    .addHelpText(
      "after",
      "\nExamples:\n  signalbox test support-ticket\n  signalbox test workflows/support-ticket.json --only urgent",
    )
    .action(async (target: string, options: { only?: string[] }, command) => {
      const context = contextOf(command);
      let workflowId = target;
      let definition: unknown;
      if (target.endsWith(".json") || existsSync(target)) {
        const checked = await checkWorkflowFiles([target]);
        if (!checked.ok) {
          printIssues(checked.issues);
          throw new CliError(`${target} is not a valid workflow: fix it, then test again`);
        }
        const file = checked.files[0];
        if (!file) throw new CliError(`${target}: nothing to test`);
        workflowId = file.definition.id;
        definition = file.definition;
      }
      const run = await (await context.api()).test(workflowId, {
        tests: options.only ?? true,
        ...(definition === undefined ? {} : { definition }),
      });
      if (context.json) printJson(run);
      else if (run.results.length === 0) {
        process.stderr.write(
          `${workflowId} has no test cases: add \`tests\` to its definition (docs/definitions.md#test-cases)\n`,
        );
      } else printTestRun(run, (line) => process.stdout.write(`${line}\n`));
      process.exitCode = run.failed === 0 && run.results.length > 0 ? exitCodes.ok : exitCodes.failure;
    });
}
