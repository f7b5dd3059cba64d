import type { ErrorData } from "../errors";
import type { JsonObject } from "../lib/json";

export const runStatuses = ["pending", "running", "waiting", "needs_review", "success", "failed", "cancelled"] as const;
export type RunStatus = (typeof runStatuses)[number];

export const stepStatuses = [...runStatuses, "skipped"] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const terminalRunStatuses: readonly RunStatus[] = ["success", "failed", "cancelled"];

export function isTerminalRun(status: RunStatus): boolean {
  return terminalRunStatuses.includes(status);
}

/** A step is settled when nothing more will happen to it in this run. */
export function isSettledStep(status: StepStatus): boolean {
  return status === "success" || status === "skipped" || status === "failed" || status === "cancelled";
}

export type AttemptOutcome = "success" | "failure" | "sleep" | "interrupted" | "cancelled";

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  error?: ErrorData;
}

export interface StepState {
  nodeId: string;
  type: string;
  status: StepStatus;
  /** Attempts started so far; the current attempt's number while running. */
  attempts: number;
  /** Times the current attempt was cut short by a restart and executed again. */
  interruptions: number;
  startedAt?: number;
  endedAt?: number;
  /** The context version the current attempt read. */
  inputVersion?: number;
  /** The context version this step produced. */
  contextVersion?: number;
  error?: ErrorData;
  output?: JsonObject;
  /** For routing nodes: the successors chosen. */
  route?: string[];
  retryAt?: number;
  wakeAt?: number;
  history: AttemptRecord[];
}

export interface RunState {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: ErrorData & { nodeId?: string };
  contextVersion: number;
  steps: Readonly<Record<string, StepState>>;
}

export type TimerKind = "retry" | "wake";

export interface Timer {
  id: string;
  at: number;
  kind: TimerKind;
  nodeId: string;
  attempt: number;
}

export function timerId(kind: TimerKind, nodeId: string, attempt: number): string {
  return `${kind}:${nodeId}:${attempt}`;
}

export function idempotencyKey(runId: string, nodeId: string, attempt: number): string {
  return `${runId}:${nodeId}:${attempt}`;
}
