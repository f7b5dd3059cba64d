import type { JsonObject } from "../lib/json";
import type { NodeOutcome } from "../nodes/types";
import type { RunState, RunStatus, Timer } from "./state";

export type RunEvent =
  | { type: "start" }
  /** The run's object came back after a restart: attempts that were running are executed again. */
  | { type: "resume" }
  | { type: "node-result"; nodeId: string; attempt: number; outcome: NodeOutcome }
  | { type: "timer"; timer: Timer }
  | { type: "cancel"; reason?: string };

export type Command =
  | { type: "execute"; nodeId: string; attempt: number; idempotencyKey: string; timeoutMs: number }
  | { type: "set-timer"; timer: Timer }
  | { type: "clear-timer"; id: string }
  | { type: "write-context"; nodeId: string; version: number; patch: JsonObject }
  | { type: "run-ended"; status: RunStatus };

export interface Transition {
  state: RunState;
  commands: Command[];
  /** Steps whose state changed: what the shell persists and checkpoints. */
  changedSteps: string[];
  /** False when the event was stale or irrelevant and nothing changed. */
  changed: boolean;
}
