import type { z } from "zod";
import type { ErrorData } from "../errors";
import type { Json, JsonObject } from "../lib/json";
import type { LlmAttemptContext, LlmAttemptReport, LlmPort } from "../llm/types";
import type { BodyRef } from "./body";

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
  | { type: "spawn"; spawn: SpawnRequest; inputs?: Json[] };

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

export interface EventWait {
  name: string;
  match?: string;
  until: number;
  timeoutTo?: string;
  output?: string;
}

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  data?: unknown;
}

/**
 * Where a file is: an object of an R2 bucket (`bucket` absent means the FILES bucket) or a
 * blob of this run (`blob`, the hex SHA-256 of a `$signalbox.blob` reference): a large context
 * value stored as JSON, or with `raw`, a file kept byte for byte (an email attachment).
 */
export type FileLocation = { bucket?: string; key: string } | { blob: string; raw?: boolean };

export type FileRead =
  | { ok: true; bytes: Uint8Array; size: number; contentType?: string }
  | { ok: false; reason: "not_found" | "unknown_bucket" }
  | { ok: false; reason: "too_large"; size: number };

/** Stored files, read-only, as a node sees them. A throw is a storage failure worth retrying. */
export interface FilePort {
  /** The object's bytes, unless it is larger than `maxBytes` (then only its size is read). */
  read(location: FileLocation, maxBytes: number): Promise<FileRead>;
}

/** The outside world, as a node sees it. The run shell supplies real implementations. */
export interface NodePorts {
  fetch(request: Request): Promise<Response>;
  log(entry: LogEntry): void;
  /** Model providers (llm nodes); absent where none can be reached. */
  llm?: LlmPort;
  /** Stored files (extract nodes); absent where no bucket can be reached (a dry run). */
  files?: FilePort;
}

export interface NodeContext {
  runId: string;
  workflowId: string;
  nodeId: string;
  attempt: number;
  idempotencyKey: string;
  /** Deeply frozen snapshot of the run's context when the node started. */
  context: Readonly<JsonObject>;
  now: number;
  signal: AbortSignal;
  ports: NodePorts;
  /** The node's successors in the plan (a node that routes names the ones it takes). */
  successors?: readonly string[];
  /** llm nodes: which model of the chain, the run's spend, budget and prices. */
  llm?: LlmAttemptContext;
}

export interface ExpressionSite {
  /** Path inside the node's config, for error messages. */
  path: (string | number)[];
  source: string;
  /** A `{{ expr }}` template rather than a bare expression. */
  template?: boolean;
}

export interface NodeTarget {
  path: (string | number)[];
  nodeId: string;
}

export interface NodeSpec<Config = unknown> {
  type: string;
  /** pure: no side effects, runs inline; io: talks to the outside world. */
  kind: "pure" | "io";
  /**
   * "queue": the node does outside work worth spreading over Workers (http, llm). When several
   * such attempts are ready at once the run sends them through the steps queue instead of
   * running them in its own object (src/run/step-dispatch.ts). Nodes without it always run inline.
   */
  dispatch?: "queue";
  config: z.ZodType<Config>;
  defaultTimeoutMs: number;
  defaultMaxAttempts: number;
  expressions(config: Config): ExpressionSite[];
  /** Top-level context keys the node writes. */
  writes(config: Config): string[];
  /** Nodes this node routes to (branch); every other successor is skipped. */
  targets?(config: Config): NodeTarget[];
  /**
   * The successor taken only on timeout (wait for an event); the others are taken when the
   * event comes. Such a node routes, but every successor stays reachable.
   */
  timeoutTarget?(config: Config): NodeTarget | undefined;
  /**
   * llm nodes: how many models the node's chain holds (its model, then its fallbacks). When
   * one model's attempts run out, the engine starts the next one's.
   */
  models?(config: Config): number;
  /** map, loop, subworkflow: what their child runs execute, and where in the config it is named. */
  body?(config: Config): { path: (string | number)[]; ref: BodyRef };
  execute(config: Config, context: NodeContext): Promise<NodeOutcome>;
}

/** Erases a spec's config type so specs of every type fit in one registry. */
export function defineNode<Config>(spec: NodeSpec<Config>): NodeSpec<unknown> {
  return spec as unknown as NodeSpec<unknown>;
}
