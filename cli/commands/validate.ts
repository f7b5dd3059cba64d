import type { Command } from "commander";
import { exitCodes } from "../cli-error";
import { contextOf } from "../context";
import { printJson, table } from "../format";
import { checkWorkflowFiles, type FileIssue, listWorkflowFiles } from "../workflow-files";

export function printIssues(issues: FileIssue[]): void {
  process.stderr.write(
    `${table(
      ["FILE", "PATH", "CODE", "MESSAGE"],
      issues.map((issue) => [issue.file, issue.path, issue.code, issue.message]),
    )}\n`,
  );
}

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description(
      "check workflow files offline, with the server's schema and graph checks (calls to other workflows are checked by push)",
    )
    .argument("[paths...]", "workflow files or folders of *.json", ["workflows"])
    .addHelpText(
      "after",
      "\nExample:\n  signalbox validate workflows/\n  signalbox validate workflows/hello.json --json",
    )
    .action(async (paths: string[], _options, command: Command) => {
      const context = contextOf(command);
      const files = await listWorkflowFiles(paths);
      const result = await checkWorkflowFiles(files);
      if (context.json) {
        printJson(result.ok ? { ok: true, files: result.files.map((entry) => entry.file), issues: [] } : result);
      } else if (result.ok) {
        for (const entry of result.files) process.stdout.write(`ok  ${entry.file}  (${entry.definition.id})\n`);
      } else {
        printIssues(result.issues);
        const bad = new Set(result.issues.map((issue) => issue.file)).size;
        process.stderr.write(`${result.issues.length} problem(s) in ${bad} of ${files.length} file(s)\n`);
      }
      process.exitCode = result.ok ? exitCodes.ok : exitCodes.failure;
    });
}
