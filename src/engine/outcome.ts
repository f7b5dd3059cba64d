/**
 * The engine's vocabulary for what a step's attempt came to: a node returns a NodeOutcome, and
 * the engine turns it into state (src/engine/transition.ts). Nodes depend on these types; the
 * engine depends on nothing of the nodes.
 */
import type { ErrorData } from "../errors";
import type { Json, JsonObject } from "../lib/json";
import type { LlmAttemptReport } from "../llm/types";

/** What a node's execution came to. Failures are data; a throw from `execute` is a bug. */
export type NodeOutcome =
  | { type: "success"; output: JsonObject; route?: string[]; llm?: LlmAttemptReport }
  | { type: "failure"; error: ErrorData; llm?: LlmAttemptReport }
  | { type: "sleep"; until: number }
  /** Stop for people: the step is `needs_review` until they decide or the request expires. */
  | { type: "await-review"; review: ReviewAsk }
  /** Wait for a named event delivered to the run, up to `until`. */
  | { type: "await-event"; wait: EventWait }
  /**
   * Hand the step to its reviewers (retry, skip with an output, or fail) without failing it:
   * an LLM answer below its confidence threshold, or a call that would break the run's budget.
   */
  | { type: "escalate"; error: ErrorData; llm?: LlmAttemptReport }
  /**
   * Run child runs (map, loop, subworkflow) and wait for them. `inputs` (map, subworkflow: one
   * per child, in order) are kept by the shell and never reach the engine's state.
   */
  | { type: "spawn"; spawn: SpawnRequest; inputs?: Json[] }
  /**
   * The call the node was about to make must wait (a provider limit, an open circuit): nothing
   * was called, so no attempt is spent. The same attempt runs again at `until`, from the run's alarm.
   */
  | { type: "deferred"; deferral: Deferral };

/** Why an attempt waits before its call, and until when. */
export interface Deferral {
  until: number;
  /** The limit's name: `llm:<provider>`, `http:<host>` or a named limit. */
  limit: string;
  /** `rate`: its turn under the limit's rates; `retry-after`: the provider asked everyone to wait; `circuit`: the circuit is open. */
  reason: "rate" | "retry-after" | "circuit";
}

export interface SpawnRequest {
  mode: "map" | "loop" | "subworkflow";
  /** Items (map), maxIterations (loop), 1 (subworkflow). */
  count: number;
  concurrency: number;
  /** Failed children the step survives; 0 fails at the first. */
  tolerance: number;
}

export const approvalDecisions = ["approve", "reject"] as const;
export const escalationDecisions = ["retry", "skip", "fail"] as const;
export type ReviewDecision = (typeof approvalDecisions)[number] | (typeof escalationDecisions)[number];

/** What happens when nobody decided in time. */
export type ExpireAction =
  | { type: "approve" }
  | { type: "reject" }
  | { type: "fail" }
  | { type: "escalate"; approvers: string[]; expiresInMs: number; fallback: "approve" | "reject" | "fail" };

/** The rendered request people see, in the email and on the approval page. */
export interface ReviewRequest {
  subject: string;
  text: string;
  /** HTML body; without it the text is shown, escaped. */
  html?: string;
  /** Chosen context fields, already rendered. */
  summary: { label: string; value: string }[];
  decisions: ReviewDecision[];
  /** Editable fields: the JSON Schema of the edits object and the values the form starts with. */
  edit?: { schema: JsonObject; values: JsonObject };
}

export interface ReviewAsk {
  approvers: string[];
  require: "any" | "all";
  expiresAt: number;
  remindBeforeMs: number[];
  onExpire: ExpireAction;
  output: string;
  request: ReviewRequest;
}

/** A wait for a named event: what a node asks for, and what the step keeps while it waits. */
export interface EventWait {
  name: string;
  /** JSONata over `{...context, event}`; the shell evaluates it, the engine only stores it. */
  match?: string | undefined;
  until: number;
  /** The successor taken on timeout; without one a timeout fails the step. */
  timeoutTo?: string | undefined;
  output?: string | undefined;
}
