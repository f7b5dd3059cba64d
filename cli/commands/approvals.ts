import { Argument, type Command, Option } from "commander";
import type { Api, Decided, OutboxMessage, RunSummary } from "../api";
import { CliError, usageError } from "../cli-error";
import { ApiError } from "../client";
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

/**
 * The approval links of a run's step, newest first, from the outbox (kept by the default
 * `outbox` email adapter). One approver's if `as` is given.
 */
function linksFor(messages: OutboxMessage[], nodeId: string, as: string | undefined): OutboxMessage[] {
  return messages
    .filter((message) => message.nodeId === nodeId && message.links.length > 0)
    .filter((message) => as === undefined || message.to.toLowerCase() === as.toLowerCase())
    .sort((a, b) => b.createdAt - a.createdAt);
}

async function decide(
  api: Api,
  runId: string,
  nodeId: string,
  body: { decision: string; comment?: string },
  as: string | undefined,
): Promise<Decided> {
  const candidates = linksFor((await api.outbox({ run: runId, limit: 200 })).messages, nodeId, as);
  if (candidates.length === 0) {
    const who = as ? ` for ${as}` : "";
    throw new CliError(
      `no approval link${who} for step ${nodeId} of run ${runId} in the outbox: the email may still be on its way (try again), or the server's email adapter does not keep links; see \`signalbox approvals ls\``,
    );
  }
  const recipients = [...new Set(candidates.map((message) => message.to))];
  if (as === undefined && recipients.length > 1) {
    throw usageError(`step ${nodeId} asks several people (${recipients.join(", ")}): choose one with --as <email>`);
  }
  let refused: unknown;
  for (const message of candidates) {
    for (const link of message.links) {
      try {
        return await api.decide(new URL(link).pathname, body);
      } catch (thrown) {
        // A reminder's or an earlier round's link may be used or expired; a newer one may not.
        if (!(thrown instanceof ApiError) || (thrown.status !== 410 && thrown.status !== 404)) throw thrown;
        refused = thrown;
      }
    }
  }
  throw refused;
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
    .description("decide a step's approval through its approval link (recorded as that link's approver)")
    .argument("<run>", "the run's id")
    .argument("<node>", "the step waiting for a person")
    .addArgument(new Argument("<decision>", "the decision").choices(["approve", "reject", "retry", "skip", "fail"]))
    .option("--comment <text>", "a comment recorded with the decision")
    .addOption(new Option("--as <email>", "the approver whose link to use, when several are asked"))
    .addHelpText("after", "\nExample:\n  signalbox approvals decide run_01J... confirm approve --comment 'on it'")
    .action(
      async (runId: string, nodeId: string, decision: string, options: { comment?: string; as?: string }, command) => {
        const context = contextOf(command);
        const body = { decision, ...(options.comment ? { comment: options.comment } : {}) };
        const result = await decide(await context.api(), runId, nodeId, body, options.as);
        if (context.json) return printJson(result);
        process.stdout.write(
          `${result.decision} on ${nodeId} of ${runId} recorded for ${result.approver}: the step is ${result.stepStatus}, the run ${result.runStatus}\n`,
        );
      },
    );
}
