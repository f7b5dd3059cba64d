import type { TriggerDefinition } from "../definition/schema";
import type { Env } from "../env";
import { type ErrorData, fail } from "../errors";
import { parseDuration } from "../lib/duration";
import { hashJson } from "../lib/hash";
import { sortableId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import { validateJson } from "../lib/json-schema";
import type { ExecutionReport } from "../run/report";
import type { StartInput } from "../run/run-object";
import { database } from "../store/db";
import { claimDedupKey } from "../store/dedup";
import { getVersion } from "../store/workflows";

export interface StartRequest {
  workflowId: string;
  triggerType: "manual" | "webhook";
  input: Json;
  /** Caller's idempotency key; webhooks fall back to a hash of the canonical payload. */
  idempotencyKey?: string;
  receivedAt: number;
}

export interface StartResult {
  runId: string;
  status: "queued" | "duplicate";
  version: number;
}

const defaultWindowMs = 30_000;

/**
 * The one way a run begins: pin the latest version, check the input, claim the dedup key,
 * create the run's object. Nothing is written before every check has passed.
 */
export async function startRun(env: Env, request: StartRequest): Promise<StartResult> {
  const db = database(env.DB);
  const stored = await getVersion(db, request.workflowId);
  if (!stored) fail("workflow.not_found", `no workflow ${request.workflowId}`);
  const trigger = stored.definition.triggers.find((entry) => entry.type === request.triggerType) as
    | Extract<TriggerDefinition, { type: "manual" | "webhook" }>
    | undefined;
  if (request.triggerType === "webhook" && !trigger) {
    fail("trigger.not_found", `workflow ${request.workflowId} has no webhook trigger`);
  }
  if (trigger?.schema) {
    const errors = validateJson(trigger.schema, request.input);
    if (errors.length > 0)
      fail("run.input_invalid", "input does not match the trigger's schema", { details: { errors } });
  }
  const runId = sortableId("run", request.receivedAt);
  const key =
    request.idempotencyKey ??
    (request.triggerType === "webhook" ? `payload:${await hashJson(request.input)}` : undefined);
  if (key !== undefined) {
    const windowMs = parseDuration(trigger?.dedup?.window ?? env.DEDUP_WINDOW_DEFAULT ?? "") ?? defaultWindowMs;
    const claim = await claimDedupKey(db, {
      workflowId: request.workflowId,
      key: `${request.triggerType}:${key}`,
      runId,
      now: request.receivedAt,
      windowMs,
    });
    if (!claim.claimed) return { runId: claim.runId, status: "duplicate", version: stored.version };
  }
  await runStub(env, runId).start({
    runId,
    workflowId: stored.workflowId,
    version: stored.version,
    definition: stored.definition,
    input: request.input,
    trigger: { type: request.triggerType, id: key ?? null, receivedAt: request.receivedAt },
  });
  return { runId, status: "queued", version: stored.version };
}

/**
 * The run object's RPC surface as callers see it. Declared here rather than inferred because
 * the inferred RPC types of recursive JSON values are too deep for the checker.
 */
export interface RunApi {
  start(input: StartInput): Promise<{ runId: string; status: string; created: boolean }>;
  report(): Promise<ExecutionReport | null>;
  contextAt(version?: number): Promise<{ version: number; context: JsonObject } | { error: ErrorData } | null>;
  cancel(reason?: string): Promise<{ status: string } | { error: ErrorData } | null>;
  poke(): Promise<{ status: string | null }>;
  idle(): Promise<{ status: string | null }>;
}

export function runStub(env: Env, runId: string): RunApi {
  return env.RUNS.get(env.RUNS.idFromName(runId)) as unknown as RunApi;
}
