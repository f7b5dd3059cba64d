import type { Plan } from "../engine/plan";
import type { RunState } from "../engine/state";
import type { JsonObject } from "../lib/json";

export interface StepReport {
  nodeId: string;
  type: string;
  status: string;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  error: unknown;
  output: unknown;
  inputVersion: number | null;
  contextVersion: number | null;
  history: RunState["steps"][string]["history"];
  /** For steps people were asked about: who, which round, until when, and who decided what. */
  review: {
    kind: string;
    round: number;
    approvers: string[];
    require: string;
    expiresAt: number;
    decisions: { approver: string; decision: string; at: number; comment: string | null }[];
    outcome: string | null;
    undelivered: string[];
  } | null;
  /** For steps waiting for an event: which, and until when. */
  awaiting: { event: string; until: number } | null;
}

export interface ExecutionReport {
  runId: string;
  workflowId: string;
  version: number;
  status: string;
  trigger: unknown;
  input: unknown;
  context: JsonObject;
  contextVersion: number;
  error: unknown;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  endedAt: number | null;
  steps: StepReport[];
  contextVersions: { version: number; nodeId: string | null; createdAt: number }[];
}

export function buildReport(
  plan: Plan,
  state: RunState,
  context: JsonObject,
  contextVersions: ExecutionReport["contextVersions"],
): ExecutionReport {
  const steps: StepReport[] = [];
  for (const nodeId of plan.order) {
    const step = state.steps[nodeId];
    if (!step) continue;
    steps.push({
      nodeId,
      type: step.type,
      status: step.status,
      attempts: step.attempts,
      startedAt: step.startedAt ?? null,
      endedAt: step.endedAt ?? null,
      durationMs: step.startedAt !== undefined && step.endedAt !== undefined ? step.endedAt - step.startedAt : null,
      error: step.error ?? null,
      output: step.output ?? null,
      inputVersion: step.inputVersion ?? null,
      contextVersion: step.contextVersion ?? null,
      history: step.history,
      review: step.review
        ? {
            kind: step.review.kind,
            round: step.review.round,
            approvers: step.review.approvers,
            require: step.review.require,
            expiresAt: step.review.expiresAt,
            decisions: step.review.decisions.map((entry) => ({
              approver: entry.approver,
              decision: entry.decision,
              at: entry.at,
              comment: entry.comment ?? null,
            })),
            outcome: step.review.outcome ?? null,
            undelivered: step.review.undelivered,
          }
        : null,
      awaiting: step.eventWait ? { event: step.eventWait.name, until: step.eventWait.until } : null,
    });
  }
  return {
    runId: state.runId,
    workflowId: state.workflowId,
    version: state.version,
    status: state.status,
    trigger: context.trigger ?? null,
    input: context.input ?? null,
    context,
    contextVersion: state.contextVersion,
    error: state.error ?? null,
    createdAt: state.createdAt,
    startedAt: state.startedAt ?? null,
    updatedAt: state.updatedAt,
    endedAt: state.endedAt ?? null,
    steps,
    contextVersions,
  };
}
