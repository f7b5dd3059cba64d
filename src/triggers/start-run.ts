/**
 * Triggers: every way a run starts (API, webhooks, schedules, events, R2, email) ends in
 * `startRun`, which pins the workflow version, maps and checks the input, claims the dedup key
 * and hands the run to its RunObject.
 */
import { waitUntil } from "cloudflare:workers";
import type { TriggerDefinition } from "../definition/schema";
import type { Env } from "../env";
import { type ErrorData, fail, toErrorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { claimSingleton, debounceTrigger, passGates, planFlow, withinRateLimit } from "../flow/admission";
import type { GateCheck } from "../flow/gate-object";
import type { RunFlow } from "../flow/types";
import { parseDuration } from "../lib/duration";
import { hashJson } from "../lib/hash";
import { sortableId } from "../lib/ids";
import { type Json, type JsonObject, toJson } from "../lib/json";
import { validateJson } from "../lib/json-schema";
import { logLine } from "../lib/log";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type { ExecutionReport } from "../run/report";
import type { StartInput } from "../run/start-input";
import { type Database, database } from "../store/db";
import { claimDedupKey, releaseDedupKey, repointDedupKey } from "../store/dedup";
import { countRefusal } from "../store/flow-counts";
import { latestWorkflowForTrigger, type WorkflowForRun } from "../store/triggers";
import { isolateSpares, spareQuietMaxMs, spareRunTtlMs } from "./spare-runs";

export type TriggerType = TriggerDefinition["type"];

export interface StartRequest {
  workflowId: string;
  triggerType: TriggerType;
  /** The trigger's own input (a webhook's body, an event's payload): the run's input unless the trigger maps it. */
  input: Json;
  /** What the trigger's `input` mapping reads; `{ body: input }` when not given. */
  envelope?: JsonObject | undefined;
  /**
   * The dedup key: the caller's Idempotency-Key, a provider's delivery id, an event id, a
   * schedule tick. Webhooks without one fall back to a hash of the canonical payload.
   */
  idempotencyKey?: string | undefined;
  /** A run id derived from the trigger (a schedule tick's) instead of a fresh one. */
  runId?: string | undefined;
  /** The workflow, when the caller already loaded it (to verify a webhook, filter an event). */
  workflow?: WorkflowForRun | undefined;
  /** The trigger that matched, when the workflow may have several of its type. */
  trigger?: TriggerDefinition | undefined;
  /** Extra fields for the run's `context.trigger` (delivery id, event name, scheduled time). */
  details?: JsonObject | undefined;
  receivedAt: number;
}

export type StartResult =
  | { runId: string; status: "queued" | "duplicate"; version: number }
  /** The workflow's `flow.rateLimit` refused the trigger: no run (src/flow/admission.ts). */
  | { status: "rate_limited"; version: number }
  /** `flow.singleton` with mode `skip`: a run of the key is active (its id here); nothing started. */
  | { status: "skipped"; runId: string; version: number }
  /**
   * `flow.debounce`: the trigger joined its key's window. The window's run (this id) starts at
   * `startsAt` with the last trigger's input, later if another trigger of the key comes first.
   */
  | { status: "debounced"; runId: string; version: number; startsAt: number };

const defaultWindowMs = 30_000;
/** Events, uploads and schedule ticks carry ids meant to be unique for much longer than a payload hash. */
const idWindowMs: Partial<Record<TriggerType, number>> = {
  event: 24 * 3_600_000,
  r2: 24 * 3_600_000,
  schedule: 24 * 3_600_000,
  // Mail servers retry a deferred message for days; a Message-ID is meant to be unique for good.
  email: 7 * 24 * 3_600_000,
};

/**
 * The one way a run begins: load the latest version, pick the trigger, map and check the
 * input, claim the dedup key, create the run's object. Nothing is written before every check
 * has passed.
 */
export async function startRun(env: Env, request: StartRequest): Promise<StartResult> {
  const db = database(env.DB);
  const workflow = request.workflow ?? (await latestWorkflowForTrigger(env, db, request.workflowId));
  if (!workflow || workflow.deletedAt !== null) fail("workflow.not_found", `no workflow ${request.workflowId}`);
  if (workflow.disabledAt !== null) fail("workflow.disabled", `workflow ${request.workflowId} is disabled`);
  const trigger = request.trigger ?? workflow.definition.triggers.find((entry) => entry.type === request.triggerType);
  if (request.triggerType !== "manual" && !trigger) {
    fail("trigger.not_found", `workflow ${request.workflowId} has no ${request.triggerType} trigger`);
  }
  const input = await triggerInput(trigger, request);
  // A fresh run takes this isolate's spare object if one is ready (src/triggers/spare-runs.ts).
  const ttlMs = request.runId === undefined ? spareRunTtlMs(env) : 0;
  const spare = ttlMs > 0 ? isolateSpares.take(request.receivedAt, ttlMs) : undefined;
  const runId = request.runId ?? spare?.runId ?? sortableId("run", request.receivedAt);
  const key =
    request.idempotencyKey ??
    (request.triggerType === "webhook" ? `payload:${await hashJson(request.input)}` : undefined);
  const dedupKey = key === undefined ? undefined : `${request.triggerType}:${key}`;
  if (dedupKey !== undefined) {
    const window = trigger && "dedup" in trigger ? trigger.dedup?.window : undefined;
    const windowMs =
      parseDuration(window ?? "") ??
      idWindowMs[request.triggerType] ??
      parseDuration(env.DEDUP_WINDOW_DEFAULT ?? "") ??
      defaultWindowMs;
    const claim = await claimDedupKey(db, {
      workflowId: request.workflowId,
      key: dedupKey,
      runId,
      now: request.receivedAt,
      windowMs,
    });
    // A derived run id claimed earlier may belong to a start that was cut short: starting it
    // again is safe (the object starts once) and finishes what the first attempt began.
    if (!claim.claimed && !(request.runId !== undefined && claim.runId === runId)) {
      if (spare) isolateSpares.giveBack(spare);
      return { runId: claim.runId, status: "duplicate", version: workflow.version };
    }
  }
  const context = { ...request.details, type: request.triggerType, id: key ?? null, receivedAt: request.receivedAt };
  let started: { created: boolean };
  let flow: RunFlow | undefined;
  try {
    // Flow control after dedup: a repeated trigger is a duplicate before it costs a rate-limit token.
    const plan = await planFlow(workflow.workflowId, workflow.definition.flow, input);
    if (!(await withinRateLimit(env, plan))) {
      if (spare) isolateSpares.giveBack(spare);
      return rateLimited(env, db, { workflowId: request.workflowId, key: dedupKey, runId }, workflow.version);
    }
    const window = await debounceTrigger(env, runId, plan, {
      workflowId: workflow.workflowId,
      version: workflow.version,
      input,
      trigger: context,
    });
    if (window) {
      if (spare) isolateSpares.giveBack(spare);
      // A repeat of this trigger is a duplicate of the window's run, not of an id that never starts.
      if (dedupKey !== undefined && window.runId !== runId) {
        await repointDedupKey(db, { workflowId: request.workflowId, key: dedupKey, from: runId, to: window.runId });
      }
      return { status: "debounced", runId: window.runId, version: workflow.version, startsAt: window.startsAt };
    }
    const active = await claimSingleton(env, runId, plan);
    if (active !== undefined) {
      if (spare) isolateSpares.giveBack(spare);
      if (dedupKey !== undefined) await releaseDedupKey(db, { workflowId: request.workflowId, key: dedupKey, runId });
      return { status: "skipped", runId: active, version: workflow.version };
    }
    flow = await passGates(env, runId, plan);
  } catch (thrown) {
    return startFailed(db, { workflowId: request.workflowId, key: dedupKey, runId }, thrown);
  }
  try {
    started = await runStub(env, runId).start({
      runId,
      workflowId: workflow.workflowId,
      version: workflow.version,
      definition: workflow.definition,
      input,
      trigger: context,
      ...(flow ? { flow } : {}),
    });
  } catch (thrown) {
    return startFailed(db, { workflowId: request.workflowId, key: dedupKey, runId }, thrown);
  }
  if (started.created && ttlMs > 0) waitUntil(makeSpare(env, runId, ttlMs));
  return { runId, status: started.created ? "queued" : "duplicate", version: workflow.version };
}

/**
 * A trigger over the rate limit starts nothing: its dedup claim is given back (a sender's retry
 * later is a new trigger, not a duplicate of one that never ran) and it is counted.
 */
async function rateLimited(
  env: Env,
  db: Database,
  claim: { workflowId: string; key: string | undefined; runId: string },
  version: number,
): Promise<StartResult> {
  const { key } = claim;
  if (key !== undefined) await releaseDedupKey(db, { ...claim, key });
  // Awaited: the answer comes after the count, so the metrics never lag behind what senders were told.
  await countRefusal(env.DB, claim.workflowId, "rate_limited", Date.now()).catch((thrown) =>
    logLine("warn", "rate-limited trigger not counted", { workflowId: claim.workflowId, error: String(thrown) }),
  );
  return { status: "rate_limited", version };
}

/** How long a sender is asked to wait before repeating a trigger whose run could not start. */
const startRetryAfterMs = 1_000;

/**
 * The run's object could not be started (the runtime could not reach or create it, or it threw).
 * The dedup claim is given back, so the sender's retry with the same key starts the run instead
 * of answering "duplicate" with a run that does not exist.
 */
async function startFailed(
  db: Database,
  claim: { workflowId: string; key: string | undefined; runId: string },
  thrown: unknown,
): Promise<never> {
  const { key } = claim;
  let released: boolean | "failed" = false;
  if (key !== undefined) {
    released = await releaseDedupKey(db, { ...claim, key }).then(
      () => true,
      (error: unknown) => {
        logLine("error", "could not release the dedup claim of a run that did not start", {
          ...claim,
          error: toErrorData(error),
        });
        return "failed" as const;
      },
    );
  }
  logLine("error", "run object could not be started", { ...claim, released, error: toErrorData(thrown) });
  fail("run.start_failed", "the run could not be started; repeat the request", {
    retryable: true,
    retryAfterMs: startRetryAfterMs,
    cause: thrown,
  });
}

/** The isolate's next spare, made once the run just started has nothing in flight. */
function makeSpare(env: Env, startedRunId: string, ttlMs: number): Promise<void> {
  return isolateSpares
    .refill(ttlMs, {
      now: () => Date.now(),
      quiet: async () => {
        await Promise.race([runStub(env, startedRunId).idle(), scheduler.wait(spareQuietMaxMs)]);
      },
      make: async (spareId, expiresAt) => {
        await runStub(env, spareId).prepare({ expiresAt });
      },
    })
    .catch((thrown) => logLine("warn", "spare run object not made", { error: String(thrown) }));
}

/** The run's input: the trigger's mapping over its envelope, if any, checked against its schema. */
async function triggerInput(trigger: TriggerDefinition | undefined, request: StartRequest): Promise<Json> {
  let input = request.input;
  if (trigger?.input) {
    try {
      input = toJson(await evaluate(trigger.input, request.envelope ?? { body: request.input }));
    } catch (thrown) {
      fail("run.input_mapping_failed", `the trigger's input mapping failed: ${toErrorData(thrown).message}`, {
        details: { expression: trigger.input },
      });
    }
  }
  if (trigger?.schema) {
    const errors = validateJson(trigger.schema, input);
    if (errors.length > 0)
      fail("run.input_invalid", "input does not match the trigger's schema", { details: { errors } });
  }
  return input;
}

/**
 * The run object's RPC surface as callers see it. Declared here rather than inferred because
 * the inferred RPC types of recursive JSON values are too deep for the checker.
 */
export interface RunApi {
  start(input: StartInput): Promise<{ runId: string; status: string; created: boolean }>;
  prepare(input: { expiresAt: number }): Promise<{ prepared: boolean }>;
  /** Flow control (src/flow): a gate let the run through, or checks on its lease. */
  admit(gate: string): Promise<{ ok: boolean }>;
  gateCheck(gate: string): Promise<GateCheck>;
  report(options?: { inline?: boolean }): Promise<ExecutionReport | null>;
  contextAt(
    version?: number,
    options?: { inline?: boolean },
  ): Promise<{ version: number; hash: string; context: JsonObject } | { error: ErrorData } | null>;
  /** The run's status and the child runs it started (src/run/delete-run.ts walks the tree). */
  childRuns(): Promise<{ status: string; childRunIds: string[] } | null>;
  /** Deletes an ended run's object storage (src/run/delete-run.ts removes the rest). */
  destroy(): Promise<{ runId: string; status: string } | { error: ErrorData } | null>;
  cancel(reason?: string): Promise<{ status: string } | { error: ErrorData } | null>;
  poke(): Promise<{ status: string | null }>;
  idle(): Promise<{ status: string | null }>;
}

const runMethods: MethodNames<RunApi> = {
  start: true,
  prepare: true,
  admit: true,
  gateCheck: true,
  report: true,
  contextAt: true,
  childRuns: true,
  destroy: true,
  cancel: true,
  poke: true,
  idle: true,
};

export function runStub(env: Env, runId: string): RunApi {
  return rpcStub(env.RUNS.get(env.RUNS.idFromName(runId)), runMethods);
}
