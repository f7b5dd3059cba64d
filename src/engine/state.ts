import type { ErrorData } from "../errors";
import type { Json, JsonObject } from "../lib/json";
import type { LlmStepState, UsageTotals } from "../llm/types";
import type { Deferral, EventWait, ExpireAction, ReviewDecision, ReviewRequest } from "./outcome";

export const runStatuses = [
  "pending",
  // Waiting at a flow-control gate for its turn to start (src/flow): nothing has run yet.
  "queued",
  "running",
  "waiting",
  "needs_review",
  "success",
  "failed",
  "cancelled",
  // An operator paused the run: nothing new starts until it is resumed (src/engine/operations.ts).
  "paused",
] as const;
export type RunStatus = (typeof runStatuses)[number];

export const stepStatuses = [...runStatuses, "skipped"] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const terminalRunStatuses: readonly RunStatus[] = ["success", "failed", "cancelled"];

export function isTerminalRun(status: RunStatus): boolean {
  return terminalRunStatuses.includes(status);
}

/**
 * Why a `skipped` step never ran when the run ended before reaching it (a step skipped because
 * no edge into it was taken has no reason). A retry runs these steps; a replay does not take them.
 */
export const skipReasons = ["run.failed", "run.cancelled"] as const;
export type SkipReason = (typeof skipReasons)[number];

/** Skipped by the graph (an untaken branch), as opposed to cut off by the run's end. */
export function isGraphSkip(step: Pick<StepState, "status" | "skip">): boolean {
  return step.status === "skipped" && step.skip === undefined;
}

/** A step is settled when nothing more will happen to it in this run. */
export function isSettledStep(status: StepStatus): boolean {
  return status === "success" || status === "skipped" || status === "failed" || status === "cancelled";
}

export type AttemptOutcome =
  | "success"
  | "failure"
  | "sleep"
  | "interrupted"
  | "cancelled"
  | "await-review"
  | "await-event"
  /** Handed to reviewers without failing (an LLM answer below its confidence, a budget stop). */
  | "escalated"
  /** Started child runs (map, loop, subworkflow); the step waits for them (src/engine/children.ts). */
  | "await-children";

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  error?: ErrorData;
  /** The context version this attempt read. */
  inputVersion?: number;
  /** Times this attempt waited for its turn under a limit before its call (src/engine/defer.ts). */
  deferrals?: number;
}

export interface StepState {
  nodeId: string;
  type: string;
  status: StepStatus;
  /** Attempts started so far; the current attempt's number while running. */
  attempts: number;
  /** Times the current attempt was cut short after it started (a restart, a silent consumer) and executed again. */
  interruptions: number;
  /** Times the current attempt's queue message was lost before any consumer took it, and sent again. */
  resends?: number | undefined;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  /** The context version the current attempt read. */
  inputVersion?: number | undefined;
  /** The context version this step produced. */
  contextVersion?: number | undefined;
  error?: ErrorData | undefined;
  output?: JsonObject | undefined;
  /** For routing nodes: the successors chosen. */
  route?: string[] | undefined;
  /** A step the run ended before reaching: skipped, and why. */
  skip?: { reason: SkipReason } | undefined;
  retryAt?: number | undefined;
  wakeAt?: number | undefined;
  /** Attempts made before the last reviewer's "retry": retry counting starts again after it. */
  attemptBase?: number | undefined;
  /** While `needs_review` (and afterwards, as the record): who was asked and who decided. */
  review?: ReviewState | undefined;
  /** While waiting for a named event. */
  eventWait?: EventWait | undefined;
  /** While the current attempt waits for its turn under a provider limit or circuit. */
  deferred?: Deferral | undefined;
  /** llm steps: the model chain position, every call with its latency, outcome, tokens and cost. */
  llm?: LlmStepState | undefined;
  /** map, loop and subworkflow steps: their child runs, as counts (src/engine/children.ts). */
  children?: ChildrenState | undefined;
  history: AttemptRecord[];
  /** In a replay: this step was not executed here but taken, settled, from the original run. */
  replayedFrom?: { runId: string; contextVersion?: number; endedAt?: number } | undefined;
  /** A step the run rolls back: its compensation's own attempts (src/engine/compensation.ts). */
  compensation?: StepCompensation | undefined;
}

/**
 * Undoing one completed step. Its attempts are counted apart from the step's own; every attempt
 * sends the same idempotency key (`compensationKey`), so the far side undoes it at most once.
 */
export interface StepCompensation {
  /** pending: its group has not come yet; cancelled: the run was cancelled before it finished. */
  status: "pending" | "running" | "waiting" | "success" | "failed" | "cancelled";
  attempts: number;
  /** Times the current attempt was cut short by a restart and executed again. */
  interruptions: number;
  /** Attempts made before an operator's retry: the retry policy counts again after it. */
  attemptBase?: number | undefined;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  retryAt?: number | undefined;
  error?: ErrorData | undefined;
}

/**
 * A run rolling back (`onFailure` / `onCancel: "compensate"`): why, the error it will end with,
 * and its completed steps in the groups they are undone in, the last completed first.
 */
export interface RunCompensation {
  cause: "failed" | "cancelled";
  startedAt: number;
  /** Node ids, group by group: a group starts once every compensation of the one before succeeded. */
  layers: string[][];
  /** The group under way; `layers.length` once all are done. */
  layer: number;
  endedAt?: number | undefined;
}

export interface DecisionRecord {
  approver: string;
  decision: ReviewDecision;
  at: number;
  comment?: string;
  edits?: JsonObject;
}

/**
 * A person's part of a step. `approval` comes from a human node; `escalation` from a node
 * whose attempts ran out under `retry.escalateAfter`. A round is one set of approvers with
 * one expiry; an expiry that escalates starts the next round.
 */
export interface ReviewState {
  kind: "approval" | "escalation";
  round: number;
  approvers: string[];
  require: "any" | "all";
  requestedAt: number;
  expiresAt: number;
  /** Reminders, as offsets before `expiresAt`; those already past when a round starts are dropped. */
  remindBeforeMs: number[];
  reminded: number;
  onExpire: ExpireAction;
  /** Context key the decision is written to (approvals). */
  output?: string | undefined;
  request: ReviewRequest;
  decisions: DecisionRecord[];
  /** Escalations: the failure that brought the step here. */
  cause?: ErrorData | undefined;
  /** Approvers whose email could not be delivered this round. */
  undelivered: string[];
  /** How the review ended, once it has. */
  outcome?: ReviewDecision | "expired" | undefined;
}

/** An event delivered to a run (`POST /api/runs/:id/events/:name`). */
export interface RunEventRecord {
  name: string;
  id: string;
  payload: Json;
  receivedAt: number;
}

export interface RunState {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  createdAt: number;
  updatedAt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  error?: (ErrorData & { nodeId?: string }) | undefined;
  contextVersion: number;
  /** What the run's LLM calls have spent (its budget is checked against this). */
  llm?: UsageTotals | undefined;
  steps: Readonly<Record<string, StepState>>;
  /** While paused: since when, and the engine timers that came due meanwhile (fired on resume). */
  paused?: PauseState | undefined;
  /** What operators did to this run (pause, resume, retry), oldest first: part of its trace. */
  operations?: OperationRecord[] | undefined;
  /** A replay: the run it was replayed from and the node it starts at. */
  replayOf?: { runId: string; fromNode: string } | undefined;
  /** A child run: the parent step it reports to (src/run/children.ts). The engine never reads it. */
  parent?: ParentLink | undefined;
  /** The run's roll-back, from when it failed or was cancelled with compensation on. */
  compensation?: RunCompensation | undefined;
  /** Ended, and every completed step's effect was undone. False when a compensation failed or was cut off. */
  rolledBack?: boolean | undefined;
}

export interface ParentLink {
  runId: string;
  nodeId: string;
  attempt: number;
  index: number;
  /** This run's level (runDepth): 2 for a top-level run's children, 3 for theirs, ... */
  depth: number;
}

/** A top-level run's level: a run's depth counts the runs from the top down to it, itself included. */
const topLevelDepth = 1;

/** The run's level, as its context (`run.depth`), its report and the nesting limit count it. */
export function runDepth(state: { parent?: ParentLink | undefined }): number {
  return state.parent?.depth ?? topLevelDepth;
}

/**
 * The children of one attempt of a map, loop or subworkflow step. Only counts and the indices
 * out are kept: inputs, outputs and errors live in the shell's children table, so a completion
 * rewrites a few numbers, not a thousand results.
 */
export interface ChildrenState {
  mode: "map" | "loop" | "subworkflow";
  /** Items (map), the iteration limit (loop), 1 (subworkflow). */
  total: number;
  concurrency: number;
  /** Failed children the step survives (0 = fail fast). */
  tolerance: number;
  /** The next index to start. */
  next: number;
  running: number[];
  succeeded: number;
  failed: number;
  /** The most children that were out at once. */
  maxRunning: number;
  /** running: children out or to start; collecting: all settled, the shell assembles the output; then done or failed. */
  phase: "running" | "collecting" | "done" | "failed";
}

export interface PauseState {
  at: number;
  reason?: string;
  by?: string;
  /** Timers that came due while paused, in the order they came. */
  held: Timer[];
}

export interface OperationRecord {
  type: "pause" | "unpause" | "retry" | "compensate";
  at: number;
  by?: string;
  reason?: string;
  /** Retry: the steps started again. */
  nodes?: string[];
  /** Retry onto another version: the version the run had before. */
  fromVersion?: number;
  toVersion?: number;
}

export const timerKinds = ["retry", "wake", "expire", "remind", "event-timeout", "defer", "compensate"] as const;
export type TimerKind = (typeof timerKinds)[number];

export interface Timer {
  id: string;
  at: number;
  kind: TimerKind;
  nodeId: string;
  attempt: number;
  /** Review timers: the round they belong to. */
  round?: number;
}

/** `suffix` tells apart several timers of one kind and attempt (review rounds, reminders). */
export function timerId(kind: TimerKind, nodeId: string, attempt: number, suffix?: string | number): string {
  return suffix === undefined ? `${kind}:${nodeId}:${attempt}` : `${kind}:${nodeId}:${attempt}:${suffix}`;
}

export function idempotencyKey(runId: string, nodeId: string, attempt: number): string {
  return `${runId}:${nodeId}:${attempt}`;
}

/** The one key of every attempt to undo a step (unless its `compensate` names its own). */
export function compensationKey(runId: string, nodeId: string): string {
  return `${runId}:${nodeId}:compensate`;
}
