import type { WorkflowDefinition } from "../definition/schema";
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import { replayGates } from "../flow/admission";
import { sortableId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import type { CompensateResult, RetryResult } from "../run/operations";
import { operationsStub } from "../run/operations-api";
import { database } from "../store/db";
import { type OperationEntry, recordOperations } from "../store/operations";

/**
 * The operations on one run, shared by the single-run routes, dead-letter requeues and bulk
 * actions. Each answers data, never throws for an expected refusal, and records what it did in
 * the D1 audit trail.
 */
export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

type Rpc<T> = T | { error: ErrorData } | null;

function settle<T>(runId: string, result: Rpc<T>): ActionResult<T> {
  if (result === null) return { ok: false, error: errorData("run.not_found", `no run ${runId}`) };
  if (typeof result === "object" && result !== null && "error" in result) return { ok: false, error: result.error };
  return { ok: true, value: result as T };
}

async function audit(env: Env, entry: OperationEntry): Promise<void> {
  try {
    await recordOperations(database(env.DB), [entry]);
  } catch (thrown) {
    // The operation happened; a missing audit row must not turn it into an error.
    console.log(
      JSON.stringify({ level: "warn", message: "audit write failed", runId: entry.runId, error: String(thrown) }),
    );
  }
}

export interface ActionContext {
  bulkId?: string;
  operation?: OperationEntry["operation"];
}

export async function retryRun(
  env: Env,
  runId: string,
  options: { version?: "latest" | number },
  context: ActionContext = {},
): Promise<ActionResult<RetryResult>> {
  const result = settle(runId, await operationsStub(env, runId).retry(options));
  if (result.ok) {
    await audit(env, {
      runId,
      operation: context.operation ?? "retry",
      at: Date.now(),
      ...(context.bulkId ? { bulkId: context.bulkId } : {}),
      details: {
        restarted: result.value.restarted,
        fromVersion: result.value.fromVersion,
        version: result.value.version,
      },
    });
  }
  return result;
}

export async function cancelRun(
  env: Env,
  runId: string,
  context: ActionContext = {},
): Promise<ActionResult<{ status: string }>> {
  const result = settle(runId, await operationsStub(env, runId).cancel("cancelled by request"));
  if (result.ok) {
    await audit(env, {
      runId,
      operation: "cancel",
      at: Date.now(),
      ...(context.bulkId ? { bulkId: context.bulkId } : {}),
    });
  }
  return result;
}

/** An operator's rollback of an ended run; a dry run lists the steps and changes nothing (and is not audited). */
export async function compensateRun(
  env: Env,
  runId: string,
  options: { dryRun?: boolean; reason?: string },
): Promise<ActionResult<CompensateResult>> {
  const result = settle(runId, await operationsStub(env, runId).compensate(options));
  if (result.ok && !result.value.dryRun) {
    await audit(env, {
      runId,
      operation: "compensate",
      at: Date.now(),
      details: { layers: result.value.layers, ...(options.reason ? { reason: options.reason } : {}) },
    });
  }
  return result;
}

export async function pauseRun(
  env: Env,
  runId: string,
  options: { reason?: string },
  context: ActionContext = {},
): Promise<ActionResult<{ status: string; pausedAt: number }>> {
  const result = settle(runId, await operationsStub(env, runId).pause(options));
  if (result.ok) {
    await audit(env, {
      runId,
      operation: "pause",
      at: Date.now(),
      ...(context.bulkId ? { bulkId: context.bulkId } : {}),
      ...(options.reason ? { details: { reason: options.reason } } : {}),
    });
  }
  return result;
}

export async function resumeRun(
  env: Env,
  runId: string,
  context: ActionContext = {},
): Promise<ActionResult<{ status: string; released: number }>> {
  const result = settle(runId, await operationsStub(env, runId).unpause({}));
  if (result.ok) {
    await audit(env, {
      runId,
      operation: "resume",
      at: Date.now(),
      ...(context.bulkId ? { bulkId: context.bulkId } : {}),
      details: { releasedTimers: result.value.released },
    });
  }
  return result;
}

export interface ReplayResult {
  runId: string;
  replayOf: string;
  fromNode: string;
  status: string;
  taken: string[];
}

/**
 * A replay is a new run: the original hands out the steps before `fromNode` and the context
 * they left, the new run's object starts from them. The original is only read.
 */
export async function replayRun(
  env: Env,
  runId: string,
  options: { fromNode: string; context?: JsonObject },
): Promise<ActionResult<ReplayResult>> {
  const seed = settle(runId, await operationsStub(env, runId).replaySeed({ fromNode: options.fromNode }));
  if (!seed.ok) return seed;
  const createdAt = Date.now();
  const replayId = sortableId("run", createdAt);
  // A gated workflow's replay passes its gates like a new run (src/flow/admission.ts).
  const input = (options.context?.input ?? seed.value.context.input ?? {}) as Json;
  const definition = seed.value.definition as WorkflowDefinition | undefined;
  const flow = await replayGates(env, replayId, seed.value.workflowId, definition?.flow, input);
  const started = await operationsStub(env, replayId).startReplay({
    runId: replayId,
    seed: seed.value,
    createdAt,
    ...(options.context ? { edits: options.context } : {}),
    ...(flow ? { flow } : {}),
  });
  await audit(env, {
    runId,
    operation: "replay",
    at: createdAt,
    relatedRunId: replayId,
    details: {
      fromNode: options.fromNode,
      taken: seed.value.taken,
      editedKeys: Object.keys(options.context ?? {}),
    },
  });
  return {
    ok: true,
    value: {
      runId: replayId,
      replayOf: runId,
      fromNode: options.fromNode,
      status: started.status,
      taken: seed.value.taken,
    },
  };
}
