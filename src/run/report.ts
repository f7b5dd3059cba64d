import type { Plan } from "../engine/plan";
import type { AttemptRecord, ParentLink, RunState, StepState } from "../engine/state";
import { toErrorData } from "../errors";
import type { FlowReport } from "../flow/types";
import { childRunId } from "../lib/ids";
import { type Json, type JsonObject, toJson } from "../lib/json";
import { emptyTotals } from "../llm/policy";
import type { LlmBudget, LlmCallRecord, UsageTotals } from "../llm/types";
import { runOutput } from "./run-output";

export interface StepReport {
  nodeId: string;
  type: string;
  status: string;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  error: unknown;
  /** A skipped step the run ended before reaching: why (`run.failed`, `run.cancelled`); null for branch skips. */
  skip: { reason: string } | null;
  output: unknown;
  inputVersion: number | null;
  contextVersion: number | null;
  /** Every attempt: times, duration, outcome, error code and message, the context version it read, and what it produced. */
  history: AttemptReport[];
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
  /** For a step whose attempt waits for its turn under a provider limit or circuit: which, why, until when. */
  deferred: { limit: string; reason: string; until: number } | null;
  /** For llm steps: the model chain position, what the step spent, and every call (latency, outcome, tokens, cost). */
  llm: { modelIndex: number; usage: UsageTotals; calls: LlmCallRecord[] } | null;
  /** In a replay: the step was taken, settled, from the original run instead of executed. */
  replayedFrom: { runId: string; contextVersion: number | null; endedAt: number | null } | null;
  /** map, loop and subworkflow steps: their child runs (each a run of its own, with its own report). */
  children: ChildrenReport | null;
  /** A step the run rolled back: how undoing it went (docs/definitions.md#compensation); null for the others. */
  compensation: CompensationReport | null;
}

export interface CompensationReport {
  /** pending (its group's turn has not come), running, waiting (a retry's backoff), success, failed, cancelled. */
  status: string;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  retryAt: number | null;
  error: unknown;
}

export interface ChildrenReport {
  mode: string;
  phase: string;
  /** Items (map), iterations run or allowed (loop), 1 (subworkflow). */
  total: number;
  started: number;
  succeeded: number;
  failed: number;
  /** The most children out at once. */
  maxRunning: number;
  /** Run ids of the children out now. */
  running: string[];
}

export interface AttemptReport extends AttemptRecord {
  durationMs: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  inputVersion?: number;
  /** The output and context version of the attempt the step's success came from; null for the others. */
  output: unknown;
  contextVersion: number | null;
}

export interface ExecutionReport {
  /** Flow control (src/flow/run-gates.ts): the run's keys, and for a queued run what it waits for. */
  flow?: FlowReport;
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
  /** Every context version: the node that wrote it, when, and its hash in the run's chain (docs/architecture.md#context). */
  contextVersions: { version: number; nodeId: string | null; createdAt: number; hash?: string }[];
  /** What the run's LLM calls spent, and its budget. */
  llm: (UsageTotals & { budget: LlmBudget | null }) | null;
  /** Set while an operator has the run paused: since when, why, and how many timers are held. */
  paused: { at: number; reason: string | null; by: string | null; heldTimers: number } | null;
  /** What operators did to the run (pause, unpause, retry), oldest first. */
  operations: NonNullable<RunState["operations"]>;
  /** A replay: the run and node it was replayed from. */
  replayOf: { runId: string; fromNode: string } | null;
  /** A child run: the parent run, step, attempt and index it reports to, and its own depth (2 under a top-level run). */
  parent: ParentLink | null;
  /** A successful run's output (the definition's `output`, or the context minus input, trigger and run). */
  output: Json | null;
  /** Ended with every completed step undone (`onFailure` / `onCancel: "compensate"`); false when one was not; null without a rollback. */
  rolledBack: boolean | null;
  /** The rollback: why, when, its groups of steps (undone last first) and the group under way; null without one. */
  compensation: { cause: string; startedAt: number; endedAt: number | null; layers: string[][]; layer: number } | null;
}

/** The report's `output`: null until the run succeeded; an output expression that fails shows its error. */
export async function reportOutput(state: RunState, definition: unknown, context: JsonObject): Promise<Json> {
  if (state.status !== "success") return null;
  try {
    return await runOutput(definition, context);
  } catch (thrown) {
    return { error: toJson(toErrorData(thrown)) };
  }
}

function childrenReport(runId: string, step: StepState): ChildrenReport | null {
  const children = step.children;
  if (!children) return null;
  return {
    mode: children.mode,
    phase: children.phase,
    total: children.total,
    started: children.next,
    succeeded: children.succeeded,
    failed: children.failed,
    maxRunning: children.maxRunning,
    running: children.running.map((index) => childRunId(runId, step.nodeId, step.attempts, index)),
  };
}

function attemptReports(step: StepState): AttemptReport[] {
  return step.history.map((entry, index) => {
    const last = index === step.history.length - 1;
    const produced = last && step.status === "success" && entry.outcome !== "failure";
    const inputVersion = entry.inputVersion ?? (last ? step.inputVersion : undefined);
    return {
      ...entry,
      ...(inputVersion !== undefined ? { inputVersion } : {}),
      durationMs: entry.endedAt !== undefined ? entry.endedAt - entry.startedAt : null,
      errorCode: entry.error?.code ?? null,
      errorMessage: entry.error?.message ?? null,
      output: produced ? (step.output ?? null) : null,
      contextVersion: produced ? (step.contextVersion ?? null) : null,
    };
  });
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
      skip: step.skip ?? null,
      output: step.output ?? null,
      inputVersion: step.inputVersion ?? null,
      contextVersion: step.contextVersion ?? null,
      history: attemptReports(step),
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
      deferred: step.deferred
        ? { limit: step.deferred.limit, reason: step.deferred.reason, until: step.deferred.until }
        : null,
      llm: step.llm ? { modelIndex: step.llm.modelIndex, usage: step.llm.usage, calls: step.llm.calls } : null,
      replayedFrom: step.replayedFrom
        ? {
            runId: step.replayedFrom.runId,
            contextVersion: step.replayedFrom.contextVersion ?? null,
            endedAt: step.replayedFrom.endedAt ?? null,
          }
        : null,
      children: childrenReport(state.runId, step),
      compensation: step.compensation
        ? {
            status: step.compensation.status,
            attempts: step.compensation.attempts,
            startedAt: step.compensation.startedAt ?? null,
            endedAt: step.compensation.endedAt ?? null,
            retryAt: step.compensation.retryAt ?? null,
            error: step.compensation.error ?? null,
          }
        : null,
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
    llm: state.llm || plan.llm?.budget ? { ...(state.llm ?? emptyTotals()), budget: plan.llm?.budget ?? null } : null,
    paused: state.paused
      ? {
          at: state.paused.at,
          reason: state.paused.reason ?? null,
          by: state.paused.by ?? null,
          heldTimers: state.paused.held.length,
        }
      : null,
    operations: state.operations ?? [],
    replayOf: state.replayOf ?? null,
    parent: state.parent ?? null,
    output: null,
    rolledBack: state.rolledBack ?? null,
    compensation: state.compensation
      ? {
          cause: state.compensation.cause,
          startedAt: state.compensation.startedAt,
          endedAt: state.compensation.endedAt ?? null,
          layers: state.compensation.layers,
          layer: state.compensation.layer,
        }
      : null,
  };
}
