import type { ErrorData } from "../errors";
import type { JsonObject } from "../lib/json";
import type { NodeOutcome, ReviewDecision } from "./outcome";
import type { RunEventRecord, RunState, RunStatus, Timer } from "./state";

/** What one attempt of a node came to. */
export interface NodeResult {
  nodeId: string;
  attempt: number;
  outcome: NodeOutcome;
  /** The result of an attempt to undo the step (an `execute` with `compensate`), not of the step. */
  compensate?: boolean;
}

export type RunEvent =
  | { type: "start" }
  /**
   * The run's object came back after a restart: attempts that were running are executed again,
   * as interruptions, except those in `leased`, which a queue consumer claimed and holds under a
   * live lease, and those in `unclaimed`, sent on the steps queue but never claimed: their
   * messages may be lost, so they are sent again without counting (`Leases` in src/run/step-dispatch.ts).
   */
  | { type: "resume"; leased?: readonly string[]; unclaimed?: readonly string[] }
  /**
   * A dispatched attempt's lease ran out with no result. `claimed`: a consumer had started it,
   * so it is executed again as an interruption; otherwise its message was lost and it is resent.
   */
  | { type: "lease-expired"; nodeId: string; attempt: number; claimed: boolean }
  | ({ type: "node-result" } & NodeResult)
  /**
   * Several results at once (a queue consumer's batch): applied in order in one transition, as
   * if each were its own `node-result`, so the shell persists and drives once for all of them.
   */
  | { type: "node-results"; results: NodeResult[] }
  | { type: "timer"; timer: Timer }
  | { type: "cancel"; reason?: string }
  /** A person decided on a step under review (the shell has checked the token and the form). */
  | {
      type: "decision";
      nodeId: string;
      attempt: number;
      round: number;
      approver: string;
      decision: ReviewDecision;
      comment?: string;
      edits?: JsonObject;
      /** For `skip`: the output written in the node's stead. */
      output?: JsonObject;
    }
  /** An event whose name and match fit the step's wait (the shell evaluated the match). */
  | { type: "event"; nodeId: string; attempt: number; event: RunEventRecord }
  /** An approver's email kept failing; the shell gave up on it. */
  | { type: "delivery-failed"; nodeId: string; attempt: number; round: number; approver: string; error: ErrorData }
  // ---- operations (src/engine/operations.ts) ----
  /** An operator paused the run: no node starts until `unpause`; timers that come due are held. */
  | { type: "pause"; reason?: string; by?: string }
  /** The paused run goes on: held timers fire, ready nodes start. (`resume` is the restart event.) */
  | { type: "unpause"; by?: string }
  /**
   * Retry a failed run from the steps that failed or were cut short by the failure; completed
   * steps stay. When the shell moved the run onto another version first, `fromVersion` is the old one.
   */
  /**
   * With `queued`, the run's steps are set up for the retry but it waits at a flow-control gate
   * (status `queued`) until `start`.
   */
  | { type: "retry"; by?: string; fromVersion?: number; queued?: boolean }
  /**
   * An operator asks an ended (failed or cancelled) run to undo its completed steps now
   * (`POST /api/runs/:id/compensate`): those whose undo has not succeeded yet are undone, and the
   * run ends again as it was, with `rolledBack` (src/engine/compensation.ts).
   */
  | { type: "compensate"; by?: string; reason?: string }
  /** A replay's first event: the steps taken from the original are settled already. With `queued`, it waits at a gate until `start`. */
  | { type: "start-replay"; queued?: boolean }
  // ---- child runs (src/engine/children.ts) ----
  /**
   * A child run of a map, loop or subworkflow step ended. A second report of the same index
   * changes nothing. Loops: `done` is the loop's `until`, which the shell evaluated.
   */
  | {
      type: "child-ended";
      nodeId: string;
      attempt: number;
      index: number;
      status: "success" | "failed" | "cancelled";
      error?: ErrorData;
      done?: boolean;
    }
  /** The shell's answer to `collect-children`: the step's output, assembled from its children table. */
  /** The children's results assembled; or why they could not be written (too large). */
  | { type: "children-collected"; nodeId: string; attempt: number; output?: JsonObject; error?: ErrorData };

export type Command =
  | {
      type: "execute";
      nodeId: string;
      attempt: number;
      idempotencyKey: string;
      timeoutMs: number;
      /** Run the node's `compensate` (undo the step) rather than the node; `attempt` counts the compensation's. */
      compensate?: boolean;
    }
  | { type: "set-timer"; timer: Timer }
  | { type: "clear-timer"; id: string }
  | { type: "write-context"; nodeId: string; version: number; patch: JsonObject }
  | { type: "run-ended"; status: RunStatus }
  /** Mail these people a link to decide (a new token each). */
  | {
      type: "request-review";
      nodeId: string;
      attempt: number;
      round: number;
      purpose: "request" | "reminder" | "escalation";
      approvers: string[];
      expiresAt: number;
    }
  /** The step now waits for this event: consume the earliest buffered one that matches. */
  | { type: "await-event"; nodeId: string; attempt: number; name: string }
  /** Start child `index` of the step's attempt (idempotent: the child's run id is derived from these). */
  | { type: "start-child"; nodeId: string; attempt: number; index: number }
  /** Cancel these children: the step stopped waiting for them. */
  | { type: "cancel-children"; nodeId: string; attempt: number; indices: number[] }
  /** Every child settled: assemble the output and answer with `children-collected`. */
  | { type: "collect-children"; nodeId: string; attempt: number };

export interface Transition {
  state: RunState;
  commands: Command[];
  /** Steps whose state changed: what the shell persists and checkpoints. */
  changedSteps: string[];
  /** False when the event was stale or irrelevant and nothing changed. */
  changed: boolean;
}
