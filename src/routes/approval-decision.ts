import type { Env } from "../env";
import { humanLoopStub } from "../run/human-loop-api";
import type { ClosedReason } from "../run/reviews";
import { type ApprovalRow, claimApproval, recordAudit } from "../store/approvals";
import type { Database } from "../store/db";
import type { DecisionInput } from "./approval-input";

/** Why a review no longer takes a decision, in words for the person who tried. */
export const closedMessages: Record<ClosedReason, string> = {
  run_ended: "The run this request belongs to has ended, so it needs no decision any more.",
  superseded: "The step this request was for has moved on, so it needs no decision any more.",
  decided: "This request has already been decided.",
  expired: "This request expired before a decision was made with this link.",
  already_decided: "You have already decided on this request.",
  not_approver: "This link's approver is no longer asked for this request.",
};

/** Where a decision came from, for the audit trail. */
export interface DecisionSource {
  ip: string | null;
  userAgent: string | null;
  at: number;
  /** A signed-in dashboard user deciding on the link's behalf; absent when the link itself was used. */
  actor?: { kind: string; name: string };
}

export type LinkDecision =
  | { ok: true; runStatus: string; stepStatus: string }
  | { ok: false; reason: "used" }
  | { ok: false; reason: ClosedReason };

/**
 * Decides on one approval link, for the email link's page and the dashboard's inbox alike: the
 * link is claimed in D1 by one conditional UPDATE (so of two decisions, from two tabs or a tab
 * and the email, exactly one goes on), then the run's object checks again that the step still
 * waits for this approver, and the accepted decision is audited against the link.
 */
export async function decideOnLink(
  env: Env,
  db: Database,
  row: ApprovalRow,
  input: DecisionInput,
  source: DecisionSource,
): Promise<LinkDecision> {
  if (!(await claimApproval(db, { id: row.id, decision: input.decision, now: source.at }))) {
    return { ok: false, reason: "used" };
  }
  const result = await humanLoopStub(env, row.runId).decide({
    runId: row.runId,
    nodeId: row.nodeId,
    attempt: row.attempt,
    round: row.round,
    approver: row.approver,
    ...input,
  });
  if (!result?.ok) return { ok: false, reason: result && !result.ok ? result.reason : "run_ended" };
  await recordAudit(db, {
    approvalId: row.id,
    runId: row.runId,
    nodeId: row.nodeId,
    approver: row.approver,
    decision: input.decision,
    outcome: "accepted",
    ip: source.ip,
    userAgent: source.userAgent,
    at: source.at,
    details: {
      comment: input.comment ?? null,
      edits: input.edits ?? null,
      output: input.output ?? null,
      ...(source.actor ? { actor: source.actor } : {}),
    },
  });
  return { ok: true, runStatus: result.runStatus, stepStatus: result.stepStatus };
}
