import type { z } from "zod";
import type { NodeOutcome } from "../engine/outcome";
import type { JsonObject } from "../lib/json";
import type { LimitPort } from "../limits/types";
import type { LlmAttemptContext, LlmPort } from "../llm/types";
import type { BodyRef } from "./body";

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
  /** Provider limits and circuits (llm, http); absent where none apply (a dry run). */
  limits?: LimitPort;
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
  /** The attempt's time limit (the node's `timeout`). */
  timeoutMs?: number;
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

export interface NodeSpec<Config = unknown, Type extends string = string> {
  type: Type;
  /** pure: no side effects, runs inline; io: talks to the outside world. */
  kind: "pure" | "io";
  /**
   * "queue": the node does outside work worth spreading over Workers (http, llm). When several
   * such attempts are ready at once the run sends them through the steps queue instead of
   * running them in its own object (src/run/step-dispatch.ts). Nodes without it always run inline.
   */
  dispatch?: "queue";
  /**
   * The node shows what it reads to people or logs rather than acting on it (human: an email
   * and a page; log: a log line): it reads sensitive values redacted (docs/security.md#sensitive-data).
   */
  redactsSensitive?: true;
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
  /**
   * Nodes whose effect can be undone (http): what a node's `compensate` may say, and how it is
   * carried out when a run rolls back (docs/definitions.md#compensation). The definition adds
   * the parts every type shares (`timeout`, `retry`). Its templates see the run's context with
   * `output`: the value the step wrote.
   */
  compensation?: CompensationSpec;
}

export interface CompensationSpec<Config = unknown> {
  config: z.ZodType<Config>;
  expressions(config: Config): ExpressionSite[];
  execute(config: Config, context: NodeContext): Promise<NodeOutcome>;
}

/** Erases a compensation's config type, as `defineNode` does for the node's own. */
export function defineCompensation<Config>(spec: CompensationSpec<Config>): CompensationSpec {
  return spec as CompensationSpec;
}

/**
 * Erases a spec's config type so specs of every type fit in one registry; its `type` stays a
 * literal, so the registry can check that every node type has its spec. The erasure is sound
 * because the shell only ever passes a spec the config its own `config` schema parsed.
 */
export function defineNode<const Type extends string, Config>(spec: NodeSpec<Config, Type>): NodeSpec<unknown, Type> {
  return spec;
}
