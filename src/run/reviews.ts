import type { RunEvent } from "../engine/events";
import type { ReviewDecision, ReviewRequest } from "../engine/outcome";
import type { Plan } from "../engine/plan";
import { proposedOutput, undecided } from "../engine/review";
import { isTerminalRun, type ReviewState, type RunState } from "../engine/state";
import type { JsonObject } from "../lib/json";
import { nodeSpec } from "../nodes/registry";
import type { ReviewQuery } from "../store/approval-inbox";

export type { ReviewQuery };

/** Why a link no longer opens a decision form. */
export type ClosedReason = "run_ended" | "superseded" | "decided" | "expired" | "already_decided" | "not_approver";

export interface ReviewInfo {
  runId: string;
  workflowId: string;
  runStatus: string;
  nodeId: string;
  nodeType: string;
  kind: ReviewState["kind"];
  open: boolean;
  closed?: ClosedReason;
  request: ReviewRequest;
  expiresAt: number;
  approvers: string[];
  require: ReviewState["require"];
  decisions: { approver: string; decision: ReviewDecision; at: number }[];
  /** Escalations: the keys a skip may write, and the failure under review. */
  writes: string[];
  error: { code: string; message: string } | null;
  /** Escalations: the output the failed attempt proposed (an llm answer), which a skip starts from. */
  proposed: JsonObject | null;
}

export interface DecideInput extends ReviewQuery {
  decision: ReviewDecision;
  comment?: string;
  edits?: JsonObject;
  output?: JsonObject;
}

/** The engine event a checked decision becomes; optional fields only when given. */
export function decisionEvent(input: DecideInput): Extract<RunEvent, { type: "decision" }> {
  return {
    type: "decision",
    nodeId: input.nodeId,
    attempt: input.attempt,
    round: input.round,
    approver: input.approver,
    decision: input.decision,
    ...(input.comment ? { comment: input.comment } : {}),
    ...(input.edits ? { edits: input.edits } : {}),
    ...(input.output ? { output: input.output } : {}),
  };
}

export type DecideResult = { ok: true; runStatus: string; stepStatus: string } | { ok: false; reason: ClosedReason };

/** The review a link points at, as the page shows it, and whether it is still open to this approver. */
export function describeReview(
  plan: Plan,
  configs: Readonly<Record<string, unknown>>,
  state: RunState,
  query: ReviewQuery,
): ReviewInfo | undefined {
  const step = state.steps[query.nodeId];
  const review = step?.review;
  if (!step || !review || state.runId !== query.runId) return undefined;
  const spec = nodeSpec(step.type);
  const writes = spec && configs[query.nodeId] !== undefined ? spec.writes(configs[query.nodeId]) : [];
  const closed = closedReason(state, query);
  return {
    runId: state.runId,
    workflowId: state.workflowId,
    runStatus: state.status,
    nodeId: step.nodeId,
    nodeType: plan.nodes[step.nodeId]?.type ?? step.type,
    kind: review.kind,
    open: closed === undefined,
    ...(closed ? { closed } : {}),
    request: review.request,
    expiresAt: review.expiresAt,
    approvers: review.approvers,
    require: review.require,
    decisions: review.decisions.map((entry) => ({ approver: entry.approver, decision: entry.decision, at: entry.at })),
    writes,
    error: review.cause ? { code: review.cause.code, message: review.cause.message } : null,
    proposed: (review.cause && proposedOutput(review.cause)) ?? null,
  };
}

function closedReason(state: RunState, query: ReviewQuery): ClosedReason | undefined {
  const step = state.steps[query.nodeId];
  const review = step?.review;
  const ended = isTerminalRun(state.status);
  if (!step || !review || step.attempts !== query.attempt) return ended ? "run_ended" : "superseded";
  if (review.round !== query.round || review.outcome === "expired") return "expired";
  if (review.outcome !== undefined) return "decided";
  if (ended) return "run_ended";
  if (step.status !== "needs_review") return "decided";
  if (!review.approvers.includes(query.approver)) return "not_approver";
  if (!undecided(review).includes(query.approver)) return "already_decided";
  return undefined;
}
