import { Argument, type Command, Option } from "commander";
import type { Api, Decision, RunSummary } from "../api";
import { contextOf } from "../context";
import { formatTime, printJson, table } from "../format";

export interface OpenApproval {
  runId: string;
  workflowId: string;
  nodeId: string;
  kind: string;
  approvers: string[];
  decided: string[];
  expiresAt: number;
}

/** Steps waiting for a person, read from the reports of the runs that need review. */
async function openApprovals(api: Api, workflow: string | undefined): Promise<OpenApproval[]> {
  const runs: RunSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.runs({
      status: "needs_review",
      limit: 200,
      ...(workflow ? { workflow } : {}),
      ...(cursor ? { cursor } : {}),
    });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && runs.length < 1_000);
  const open: OpenApproval[] = [];
  for (const run of runs) {
    const report = await api.report(run.runId);
    for (const step of report.steps) {
      if (step.status !== "needs_review" || !step.review) continue;
      open.push({
        runId: run.runId,
        workflowId: run.workflowId,
        nodeId: step.nodeId,
        kind: step.review.kind,
        approvers: step.review.approvers,
        decided: step.review.decisions.map((entry) => entry.approver),
        expiresAt: step.review.expiresAt,
      });
    }
  }
  return open;
}

export function registerApprovals(program: Command): void {
  const approvals = program.command("approvals").description("steps waiting for a person, and deciding them");

  approvals
    .command("ls")
    .description("open approvals: the run, the step, who is asked and until when")
    .option("--workflow <id>", "only this workflow's runs")
    .addHelpText("after", "\nExample:\n  signalbox approvals ls --workflow support-ticket")
    .action(async (options: { workflow?: string }, command) => {
      const context = contextOf(command);
      const open = await openApprovals(await context.api(), options.workflow);
      if (context.json) return printJson({ approvals: open });
      const rows = open.map((entry) => [
        entry.runId,
        entry.workflowId,
        entry.nodeId,
        entry.kind,
        entry.approvers.join(", "),
        formatTime(entry.expiresAt),
      ]);
      process.stdout.write(`${table(["RUN", "WORKFLOW", "STEP", "KIND", "ASKED", "EXPIRES"], rows)}\n`);
    });

  approvals
    .command("decide")
    .description(
      "decide a step waiting for a person, on its approver's behalf: spends that approver's link, and the audit names your key",
    )
    .argument("<run>", "the run's id")
    .argument("<node>", "the step waiting for a person")
    .addArgument(new Argument("<decision>", "the decision").choices(["approve", "reject", "retry", "skip", "fail"]))
    .option("--comment <text>", "a comment recorded with the decision")
    .addOption(new Option("--as <email>", "the approver to decide for, when the step asks several people"))
    .addHelpText("after", "\nExample:\n  signalbox approvals decide run_01J... confirm approve --comment 'on it'")
    .action(
      async (runId: string, nodeId: string, decision: string, options: { comment?: string; as?: string }, command) => {
        const context = contextOf(command);
        const api = await context.api();
        const result = await api.decide(runId, nodeId, {
          decision: decision as Decision,
          ...(options.comment ? { comment: options.comment } : {}),
          ...(options.as ? { approver: options.as } : {}),
        });
        if (context.json) return printJson(result);
        process.stdout.write(
          `${result.decision} on ${nodeId} of ${runId} recorded for ${result.approver} by ${result.decidedBy.name}: the step is ${result.stepStatus}, the run ${result.runStatus}\n`,
        );
      },
    );
}
