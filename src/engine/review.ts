import { type ErrorData, errorData } from "../errors";
import type { JsonObject } from "../lib/json";
import { redact } from "../lib/sealed-value";
import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import type { ReviewAsk, ReviewDecision } from "./outcome";
import type { DecisionRecord, ReviewState, StepState } from "./state";
import { timerId } from "./state";
import { clearTimers, failStep, startAttempt, succeed } from "./step-ops";

/**
 * People in a run: approvals asked for by a human node, and escalations of nodes whose
 * attempts ran out. A step under review is `needs_review`; its expiry and reminders are
 * timers on the run's alarm; every request for a decision is a `request-review` command the
 * shell turns into emails with single-use links.
 */

export function beginApproval(draft: Draft, nodeId: string, ask: ReviewAsk): void {
  openReview(draft, nodeId, {
    kind: "approval",
    round: 1,
    approvers: ask.approvers,
    require: ask.require,
    requestedAt: draft.now,
    expiresAt: ask.expiresAt,
    remindBeforeMs: ask.remindBeforeMs,
    reminded: 0,
    onExpire: ask.onExpire,
    output: ask.output,
    request: ask.request,
    decisions: [],
    undelivered: [],
  });
}

/**
 * The output a failed attempt proposed, as the keys the step writes: an llm answer that was
 * not confident enough or did not fit its schema carries it in `details.output`. A reviewer's
 * skip starts from it.
 */
export function proposedOutput(error: ErrorData): JsonObject | undefined {
  const output = (error.details as { output?: unknown } | undefined)?.output;
  if (typeof output !== "object" || output === null || Array.isArray(output)) return undefined;
  return output as JsonObject;
}

/** The proposed output as the request's text and summary quote it. */
export function proposedText(error: ErrorData): string | undefined {
  const output = proposedOutput(error);
  // Sensitive values (sealed by the run) are quoted redacted.
  return output ? JSON.stringify(redact(output)).slice(0, 2_000) : undefined;
}

export function beginEscalation(draft: Draft, nodeId: string, error: ErrorData): void {
  const node = draft.plan.nodes[nodeId];
  const escalation = node?.retry.escalation;
  if (!node || !escalation) return;
  const step = draft.step(nodeId);
  const { workflowId, runId } = draft.state;
  const proposed = proposedText(error);
  const text = [
    `Step "${nodeId}" (${node.type}) of workflow ${workflowId} failed ${step.attempts} time(s).`,
    `Last error: ${error.code}: ${error.message}`,
    ...(proposed ? ["", "It proposed:", proposed] : []),
    "",
    "Retry it, skip it with an output you supply, or fail the run.",
  ].join("\n");
  draft.updateStep(nodeId, { error, retryAt: undefined });
  openReview(draft, nodeId, {
    kind: "escalation",
    round: 1,
    approvers: [...escalation.reviewers],
    require: "any",
    requestedAt: draft.now,
    expiresAt: draft.now + escalation.expiresInMs,
    remindBeforeMs: [],
    reminded: 0,
    onExpire: { type: "fail" },
    cause: error,
    request: {
      subject: `Review needed: step ${nodeId} of ${workflowId} failed`,
      text,
      summary: [
        { label: "Run", value: runId },
        { label: "Step", value: `${nodeId} (${node.type})` },
        { label: "Attempts", value: String(step.attempts) },
        { label: "Error", value: `${error.code}: ${error.message}` },
        ...(proposed ? [{ label: "Proposed output", value: proposed }] : []),
      ],
      decisions: ["retry", "skip", "fail"],
    },
    decisions: [],
    undelivered: [],
  });
}

export function openReview(draft: Draft, nodeId: string, review: ReviewState): void {
  const step = draft.updateStep(nodeId, { status: "needs_review", review });
  requestReview(draft, step, "request", review.approvers);
  armTimers(draft, step);
}

function requestReview(
  draft: Draft,
  step: StepState,
  purpose: "request" | "reminder" | "escalation",
  approvers: string[],
): void {
  const review = step.review as ReviewState;
  draft.emit({
    type: "request-review",
    nodeId: step.nodeId,
    attempt: step.attempts,
    round: review.round,
    purpose,
    approvers,
    expiresAt: review.expiresAt,
  });
}

function armTimers(draft: Draft, step: StepState): void {
  const review = step.review as ReviewState;
  const base = { nodeId: step.nodeId, attempt: step.attempts, round: review.round };
  draft.emit({
    type: "set-timer",
    timer: {
      id: timerId("expire", step.nodeId, step.attempts, review.round),
      at: review.expiresAt,
      kind: "expire",
      ...base,
    },
  });
  for (const [index, before] of review.remindBeforeMs.entries()) {
    const at = review.expiresAt - before;
    if (at <= draft.now) continue;
    const id = timerId("remind", step.nodeId, step.attempts, `${review.round}.${index}`);
    draft.emit({ type: "set-timer", timer: { id, at, kind: "remind", ...base } });
  }
}

/** The approvers of the current round who have not decided yet. */
export function undecided(review: ReviewState): string[] {
  return review.approvers.filter((approver) => !review.decisions.some((entry) => entry.approver === approver));
}

/** Whether a decision event fits the review as it stands; anything else is stale or forged. */
export function acceptsDecision(step: StepState, event: Extract<RunEvent, { type: "decision" }>): boolean {
  const review = step.review;
  return (
    step.status === "needs_review" &&
    review !== undefined &&
    step.attempts === event.attempt &&
    review.round === event.round &&
    review.request.decisions.includes(event.decision) &&
    undecided(review).includes(event.approver)
  );
}

export function applyDecision(draft: Draft, event: Extract<RunEvent, { type: "decision" }>): void {
  const step = draft.step(event.nodeId);
  if (!acceptsDecision(step, event)) return;
  const review = step.review as ReviewState;
  const record: DecisionRecord = { approver: event.approver, decision: event.decision, at: draft.now };
  if (event.comment) record.comment = event.comment;
  if (event.edits) record.edits = event.edits;
  const decisions = [...review.decisions, record];
  const next = draft.updateStep(event.nodeId, { review: { ...review, decisions } });
  if (review.kind === "escalation") {
    resolveEscalation(draft, next, record, event.output);
    return;
  }
  const allApproved = review.approvers.every((approver) =>
    decisions.some((entry) => entry.approver === approver && entry.decision === "approve"),
  );
  if (record.decision === "reject" || review.require === "any" || allApproved) {
    completeApproval(draft, next, record.decision, record);
  }
}

function closeReview(draft: Draft, step: StepState, outcome: ReviewState["outcome"]): StepState {
  clearTimers(draft, step);
  return draft.updateStep(step.nodeId, { review: { ...(step.review as ReviewState), outcome } });
}

/** Writes the decision into the context and lets the run go on; a branch can route on it. */
function completeApproval(
  draft: Draft,
  step: StepState,
  decision: ReviewDecision,
  by: DecisionRecord | undefined,
): void {
  const closed = closeReview(draft, step, by ? decision : "expired");
  const review = closed.review as ReviewState;
  const edits: JsonObject = {};
  for (const entry of review.decisions) Object.assign(edits, entry.edits ?? {});
  const value: JsonObject = {
    decision,
    by: by?.approver ?? null,
    at: draft.now,
    comment: by?.comment ?? null,
    edits: Object.keys(edits).length > 0 ? edits : null,
    approvals: review.decisions.map((entry) => ({
      approver: entry.approver,
      decision: entry.decision,
      at: entry.at,
      comment: entry.comment ?? null,
    })),
    expired: by === undefined,
    round: review.round,
  };
  succeed(draft, step.nodeId, review.output ? { [review.output]: value } : {}, undefined);
}

function resolveEscalation(draft: Draft, step: StepState, record: DecisionRecord, output: JsonObject | undefined) {
  const closed = closeReview(draft, step, record.decision);
  switch (record.decision) {
    case "retry":
      // Retry counting starts again: the reviewer bought the node a fresh set of attempts.
      draft.updateStep(step.nodeId, { attemptBase: closed.attempts, error: undefined });
      startAttempt(draft, step.nodeId);
      return;
    case "skip":
      succeed(draft, step.nodeId, output ?? {}, undefined);
      return;
    default: {
      const original = closed.review?.cause;
      const note = record.comment ? `: ${record.comment}` : "";
      failStep(
        draft,
        step.nodeId,
        errorData("review.failed", `${record.approver} failed the step under review${note}`, {
          details: { approver: record.approver, original: original ?? null },
        }),
      );
    }
  }
}

export function expireReview(draft: Draft, step: StepState): void {
  const review = step.review as ReviewState;
  const action = review.onExpire;
  switch (action.type) {
    case "approve":
    case "reject":
      completeApproval(draft, step, action.type, undefined);
      return;
    case "fail": {
      const closed = closeReview(draft, step, "expired");
      const original = closed.review?.cause;
      const what = review.kind === "escalation" ? "review of a failed step" : "approval";
      failStep(
        draft,
        step.nodeId,
        errorData("review.expired", `the ${what} expired with no decision`, {
          details: { round: review.round, approvers: review.approvers, ...(original ? { original } : {}) },
        }),
      );
      return;
    }
    case "escalate": {
      clearTimers(draft, step);
      const next = draft.updateStep(step.nodeId, {
        review: {
          ...review,
          round: review.round + 1,
          approvers: action.approvers,
          requestedAt: draft.now,
          expiresAt: draft.now + action.expiresInMs,
          reminded: 0,
          onExpire: { type: action.fallback },
          decisions: [],
          undelivered: [],
        },
      });
      requestReview(draft, next, "escalation", action.approvers);
      armTimers(draft, next);
    }
  }
}

export function remindReview(draft: Draft, step: StepState): void {
  const review = step.review as ReviewState;
  const pending = undecided(review);
  // The step changes (a count) so the reminder's commands are not dropped as a no-op.
  const next = draft.updateStep(step.nodeId, { review: { ...review, reminded: review.reminded + 1 } });
  if (pending.length > 0) requestReview(draft, next, "reminder", pending);
}

export function noteDeliveryFailure(draft: Draft, event: Extract<RunEvent, { type: "delivery-failed" }>): void {
  const step = draft.step(event.nodeId);
  const review = step.review;
  if (step.status !== "needs_review" || !review || step.attempts !== event.attempt || review.round !== event.round) {
    return;
  }
  if (review.undelivered.includes(event.approver)) return;
  // The step stays needs_review, with the error on show: a person has to look, not the clock.
  draft.updateStep(event.nodeId, {
    review: { ...review, undelivered: [...review.undelivered, event.approver] },
    error: event.error,
  });
}
