import type { ErrorData } from "../errors";
import { addCalls, emptyTotals } from "../llm/policy";
import type { LlmAttemptContext, LlmStepState, PriceTable } from "../llm/types";
import type { Draft } from "./draft";
import type { NodeOutcome } from "./outcome";
import type { Plan } from "./plan";
import { shouldRetry } from "./retry";
import { openReview, proposedText } from "./review";
import type { RunState } from "./state";
import { failStep, startAttempt } from "./step-ops";

/**
 * LLM steps in the engine: their spend is recorded per step and per run, a model whose
 * attempts ran out hands over to the next in the chain, and an answer that needs a person
 * (low confidence, a budget stop) opens a review of the step instead of failing it.
 */

const defaultReviewExpiresMs = 7 * 86_400_000;

function emptyStep(): LlmStepState {
  return { modelIndex: 0, calls: [], usage: emptyTotals() };
}

/** Adds an attempt's calls to its step and to the run's totals. */
export function recordLlmAttempt(draft: Draft, nodeId: string, outcome: NodeOutcome): void {
  const report = "llm" in outcome ? outcome.llm : undefined;
  if (!report) return;
  const step = draft.step(nodeId);
  const previous = step.llm ?? emptyStep();
  draft.updateStep(nodeId, {
    llm: { ...previous, calls: [...previous.calls, ...report.calls], usage: addCalls(previous.usage, report.calls) },
  });
  if (report.calls.length > 0) draft.updateRun({ llm: addCalls(draft.state.llm ?? emptyTotals(), report.calls) });
}

/**
 * When the current model will not be tried again (its attempts are spent, or the failure is
 * not one a retry fixes) and the chain has another model, the next attempt uses it at once,
 * with a fresh retry budget. Returns false when the usual retry or failure rules apply.
 */
export function llmFallback(draft: Draft, nodeId: string, error: ErrorData): boolean {
  const node = draft.plan.nodes[nodeId];
  const models = node?.llm?.models ?? 1;
  if (!node || models <= 1) return false;
  const step = draft.step(nodeId);
  const current = step.llm ?? emptyStep();
  if (current.modelIndex + 1 >= models) return false;
  const failed = step.attempts - (step.attemptBase ?? 0);
  if (shouldRetry(node.retry, error, failed)) return false;
  draft.updateStep(nodeId, {
    llm: { ...current, modelIndex: current.modelIndex + 1 },
    attemptBase: step.attempts,
    error,
  });
  startAttempt(draft, nodeId);
  return true;
}

/** Puts the step in front of its reviewers (retry, skip with an output, fail); without any, it fails. */
export function escalateStep(draft: Draft, nodeId: string, error: ErrorData): void {
  const node = draft.plan.nodes[nodeId];
  const escalation = node?.retry.escalation;
  const reviewers = escalation?.reviewers.length ? escalation.reviewers : (node?.llm?.reviewers ?? []);
  if (!node || reviewers.length === 0) {
    failStep(draft, nodeId, error);
    return;
  }
  const step = draft.step(nodeId);
  const { workflowId, runId } = draft.state;
  const proposed = proposedText(error);
  const text = [
    `Step "${nodeId}" (${node.type}) of workflow ${workflowId} needs a review.`,
    `${error.code}: ${error.message}`,
    ...(proposed ? ["", "The model proposed:", proposed] : []),
    "",
    "Retry it (a new call to the model), skip it with the output you supply, or fail the run.",
  ].join("\n");
  draft.updateStep(nodeId, { error, retryAt: undefined });
  openReview(draft, nodeId, {
    kind: "escalation",
    round: 1,
    approvers: [...reviewers],
    require: "any",
    requestedAt: draft.now,
    expiresAt: draft.now + (escalation?.expiresInMs ?? node.llm?.reviewExpiresInMs ?? defaultReviewExpiresMs),
    remindBeforeMs: [],
    reminded: 0,
    onExpire: { type: "fail" },
    cause: error,
    request: {
      subject: `Review needed: step ${nodeId} of ${workflowId} (${error.code})`,
      text,
      summary: [
        { label: "Run", value: runId },
        { label: "Step", value: `${nodeId} (${node.type})` },
        { label: "Attempts", value: String(step.attempts) },
        { label: "Reason", value: `${error.code}: ${error.message}` },
        ...(proposed ? [{ label: "Proposed output", value: proposed }] : []),
      ],
      decisions: ["retry", "skip", "fail"],
    },
    decisions: [],
    undelivered: [],
  });
}

/** What the shell passes to an llm node's attempt, read off the run's state and plan. */
export function llmAttemptContext(
  plan: Plan,
  state: RunState,
  nodeId: string,
  envPrices: PriceTable = {},
): LlmAttemptContext {
  const step = state.steps[nodeId];
  const review = step?.review;
  const retried = review?.kind === "escalation" && review.outcome === "retry";
  const budget = plan.llm?.budget;
  return {
    modelIndex: step?.llm?.modelIndex ?? 0,
    run: state.llm ?? emptyTotals(),
    ...(budget ? { budget } : {}),
    prices: { ...envPrices, ...plan.llm?.prices },
    budgetWaived: retried && review?.cause?.code === "llm.budget_exceeded",
    fresh: retried,
  };
}
