import type { FlowDefinition } from "../definition/schema";
import type { Env } from "../env";
import { toErrorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { parseDuration } from "../lib/duration";
import type { Json } from "../lib/json";
import type { DebounceAnswer, DebouncedStart } from "./debounce";
import { gateStub } from "./gate-stub";
import { rateOf } from "./gcra";
import { type FlowKeyError, fallbackKey, type GateRef, gateName, type RunFlow } from "./types";

/**
 * The trigger's side of flow control, after dedup and before the run's object exists: the
 * run's keys and priority from its input, the rate limit, and the gates it passes in order
 * (concurrency entries, then the throttle) until one queues it.
 */
export interface FlowPlan {
  gates: GateRef[];
  priority: number;
  keyErrors: FlowKeyError[];
  rateLimit?: { name: string; limit: number; periodMs: number };
  singleton?: GateRef;
  debounce?: { name: string; periodMs: number; maxWaitMs?: number };
}

export async function planFlow(workflowId: string, flow: FlowDefinition | undefined, input: Json): Promise<FlowPlan> {
  const plan: FlowPlan = { gates: [], priority: 0, keyErrors: [] };
  if (!flow) return plan;
  const scope = { input };
  const keyOf = async (part: string, source: string | undefined): Promise<string> => {
    if (source === undefined) return fallbackKey;
    try {
      const value = await evaluate(source, scope);
      if (value === undefined || value === null || value === "") {
        plan.keyErrors.push({ part, message: `the key expression ${JSON.stringify(source)} yielded nothing` });
        return fallbackKey;
      }
      return typeof value === "string" ? value : JSON.stringify(value);
    } catch (thrown) {
      plan.keyErrors.push({ part, message: `the key expression failed: ${toErrorData(thrown).message}` });
      return fallbackKey;
    }
  };
  for (const [index, entry] of (flow.concurrency ?? []).entries()) {
    const part = `concurrency.${index}`;
    const key = await keyOf(part, entry.key);
    plan.gates.push({
      name: gateName(workflowId, part, key),
      part,
      key,
      config: { kind: "concurrency", limit: entry.limit },
      ...(entry.holdWhileWaiting ? { holdWhileWaiting: true } : {}),
    });
  }
  if (flow.throttle) {
    const key = await keyOf("throttle", flow.throttle.key);
    const periodMs = parseDuration(flow.throttle.period) ?? 0;
    plan.gates.push({
      name: gateName(workflowId, "throttle", key),
      part: "throttle",
      key,
      config: { kind: "throttle", limit: flow.throttle.limit, periodMs, burst: flow.throttle.burst ?? 1 },
    });
  }
  if (flow.rateLimit) {
    const key = await keyOf("rateLimit", flow.rateLimit.key);
    const periodMs = parseDuration(flow.rateLimit.period) ?? 0;
    plan.rateLimit = { name: gateName(workflowId, "rateLimit", key), limit: flow.rateLimit.limit, periodMs };
  }
  if (flow.debounce) {
    const key = await keyOf("debounce", flow.debounce.key);
    const periodMs = parseDuration(flow.debounce.period) ?? 0;
    const maxWaitMs = flow.debounce.maxWait === undefined ? undefined : parseDuration(flow.debounce.maxWait);
    plan.debounce = {
      name: gateName(workflowId, "debounce", key),
      periodMs,
      ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
    };
  }
  if (flow.singleton) {
    const key = await keyOf("singleton", flow.singleton.key);
    plan.singleton = {
      name: gateName(workflowId, "singleton", key),
      part: "singleton",
      key,
      config: { kind: "singleton", limit: 1, mode: flow.singleton.mode },
    };
  }
  if (flow.priority !== undefined) plan.priority = await priorityOf(flow.priority, scope, plan.keyErrors);
  return plan;
}

async function priorityOf(source: string, scope: { input: Json }, errors: FlowKeyError[]): Promise<number> {
  try {
    const value = await evaluate(source, scope);
    if (typeof value === "number" && Number.isFinite(value)) return value;
    errors.push({
      part: "priority",
      message: `the priority expression yielded ${JSON.stringify(value) ?? "nothing"}, not a number`,
    });
  } catch (thrown) {
    errors.push({ part: "priority", message: `the priority expression failed: ${toErrorData(thrown).message}` });
  }
  return 0;
}

/** False when the trigger is over the workflow's rate limit (for its key): nothing starts. */
export async function withinRateLimit(env: Env, plan: FlowPlan): Promise<boolean> {
  if (!plan.rateLimit) return true;
  const { name, limit, periodMs } = plan.rateLimit;
  const result = await gateStub(env, name).takeRate(name, rateOf(limit, periodMs, limit));
  return result.ok;
}

/**
 * `flow.singleton`: the run's claim on its key. Skipped: the active run's id (nothing starts).
 * Let in (maybe replacing and cancelling the active run): undefined, and the run passes its
 * other gates with the singleton's slot counted as passed, so its end gives it back.
 */
export async function claimSingleton(env: Env, runId: string, plan: FlowPlan): Promise<string | undefined> {
  const gate = plan.singleton;
  if (!gate) return undefined;
  const result = await gateStub(env, gate.name).claimSingle(gate.name, { runId, config: gate.config });
  return result.granted ? undefined : result.activeRunId;
}

/**
 * `flow.debounce`: the trigger joins its key's window instead of starting a run; the window's
 * run (the id of the trigger that opened it) starts later, with the last trigger's input.
 */
export async function debounceTrigger(
  env: Env,
  runId: string,
  plan: FlowPlan,
  start: Omit<DebouncedStart, "plan">,
): Promise<DebounceAnswer | undefined> {
  const debounce = plan.debounce;
  if (!debounce) return undefined;
  const { periodMs, maxWaitMs } = debounce;
  return gateStub(env, debounce.name).debounce(debounce.name, {
    runId,
    config: maxWaitMs === undefined ? { periodMs } : { periodMs, maxWaitMs },
    start: { ...start, plan: { gates: plan.gates, priority: plan.priority, keyErrors: plan.keyErrors } },
  });
}

/**
 * A replay of a gated workflow's run is a new run that passes the gates of its input's keys like
 * a trigger's (rate limit and debounce are for triggers and do not apply). A singleton's key is
 * not skipped or taken over: the replay waits for it in the key's queue.
 */
export async function replayGates(
  env: Env,
  runId: string,
  workflowId: string,
  flow: FlowDefinition | undefined,
  input: Json,
): Promise<RunFlow | undefined> {
  const plan = await planFlow(workflowId, flow, input);
  const gates = plan.singleton ? [plan.singleton, ...plan.gates] : plan.gates;
  const { singleton: _single, rateLimit: _rate, debounce: _debounce, ...rest } = plan;
  return passGates(env, runId, { ...rest, gates });
}

/** Asks the gates in order; the run starts if all let it through, else it is queued at the first that did not. */
export async function passGates(env: Env, runId: string, plan: FlowPlan): Promise<RunFlow | undefined> {
  if (plan.gates.length === 0 && plan.keyErrors.length === 0 && !plan.singleton) return undefined;
  const single = plan.singleton ? [plan.singleton] : [];
  const flow: RunFlow = { gates: [...single, ...plan.gates], admitted: single.length, priority: plan.priority };
  if (plan.keyErrors.length > 0) flow.keyErrors = plan.keyErrors;
  return advance(env, runId, flow);
}

/** Asks the gates from the first not yet passed; answers the flow with how far the run got. */
export async function advance(env: Env, runId: string, flow: RunFlow): Promise<RunFlow> {
  let { admitted } = flow;
  while (admitted < flow.gates.length) {
    const gate = flow.gates[admitted] as GateRef;
    const answer = await gateStub(env, gate.name).acquire(gate.name, {
      runId,
      priority: flow.priority,
      config: gate.config,
    });
    if (!answer.granted) {
      const { running, limit, position } = answer;
      return { ...flow, admitted, waitingFor: { kind: gate.config.kind, key: gate.key, running, limit, position } };
    }
    admitted += 1;
  }
  const { waitingFor: _passed, ...rest } = flow;
  return { ...rest, admitted };
}
