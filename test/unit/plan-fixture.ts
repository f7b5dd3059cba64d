/**
 * Hand-built plans and a small driver for the pure engine core. Deliberately independent of
 * src/definition: a plan is described as `{ node: [preds...] }` in definition order.
 */
import { expect } from "vitest";
import type { Command, RunEvent, Transition } from "../../src/engine/events";
import type { NodeOutcome } from "../../src/engine/outcome";
import type { Plan, PlanNode, RetryPolicy } from "../../src/engine/plan";
import type { RunState, StepStatus, Timer } from "../../src/engine/state";
import { initialRunState, transition } from "../../src/engine/transition";
import { type ErrorCode, type ErrorData, errorData } from "../../src/errors";
import type { JsonObject } from "../../src/lib/json";
import { deepFreeze } from "../../src/lib/json";

export const defaultRetry: RetryPolicy = {
  maxAttempts: 1,
  backoff: "fixed",
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  jitter: 0,
  nonRetryable: [],
};

export const defaultTimeoutMs = 10_000;

export interface NodeOverrides {
  type?: string | undefined;
  kind?: PlanNode["kind"] | undefined;
  timeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
}

export interface PlanOptions {
  /** Nodes that route (branch nodes). */
  routes?: readonly string[];
  /** Retry policy fields applied to every node (before per-node overrides). */
  retry?: Partial<RetryPolicy>;
  /** Per-node overrides. */
  nodes?: Record<string, NodeOverrides>;
  workflowId?: string;
  version?: number;
}

/**
 * `plan({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] }, { routes: ["a"] })`: keys in definition
 * order, values the node's predecessors. `order` is topological, ties in definition order.
 */
export function plan(graph: Record<string, readonly string[]>, options: PlanOptions = {}): Plan {
  const ids = Object.keys(graph);
  const succs: Record<string, string[]> = Object.fromEntries(ids.map((id) => [id, [] as string[]]));
  for (const id of ids) {
    for (const pred of graph[id] ?? []) {
      const list = succs[pred];
      if (!list) throw new Error(`fixture: ${id} has unknown predecessor ${pred}`);
      list.push(id);
    }
  }
  for (const id of Object.keys(options.nodes ?? {})) {
    if (!(id in graph)) throw new Error(`fixture: override for unknown node ${id}`);
  }
  for (const id of options.routes ?? []) {
    if (!(id in graph)) throw new Error(`fixture: unknown routing node ${id}`);
  }

  // Kahn's algorithm, always taking the earliest-defined ready node.
  const remaining = new Map(ids.map((id) => [id, (graph[id] ?? []).length]));
  const order: string[] = [];
  while (order.length < ids.length) {
    const next = ids.find((id) => remaining.get(id) === 0);
    if (next === undefined) throw new Error("fixture: cycle");
    remaining.delete(next);
    order.push(next);
    for (const succ of succs[next] ?? []) remaining.set(succ, (remaining.get(succ) ?? 0) - 1);
  }

  const nodes: Record<string, PlanNode> = {};
  for (const id of ids) {
    const override = options.nodes?.[id] ?? {};
    const routes = options.routes?.includes(id) ?? false;
    nodes[id] = {
      id,
      type: override.type ?? (routes ? "branch" : "transform"),
      kind: override.kind ?? "pure",
      preds: [...(graph[id] ?? [])],
      succs: succs[id] ?? [],
      timeoutMs: override.timeoutMs ?? defaultTimeoutMs,
      retry: { ...defaultRetry, ...options.retry, ...override.retry },
      routes,
    };
  }
  return { workflowId: options.workflowId ?? "wf", version: options.version ?? 1, order, nodes };
}

// ---- outcomes ------------------------------------------------------------------------------

export function ok(output: JsonObject = {}, route?: string[]): NodeOutcome {
  return route ? { type: "success", output, route } : { type: "success", output };
}

export function failure(
  code: ErrorCode = "node.failed",
  options: { retryable?: boolean; retryAfterMs?: number; message?: string } = {},
): NodeOutcome {
  return { type: "failure", error: err(code, options) };
}

export function err(
  code: ErrorCode = "node.failed",
  options: { retryable?: boolean; retryAfterMs?: number; message?: string } = {},
): ErrorData {
  return errorData(code, options.message ?? `${code} happened`, {
    retryable: options.retryable ?? false,
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
  });
}

export function sleepUntil(until: number): NodeOutcome {
  return { type: "sleep", until };
}

// ---- command filters -----------------------------------------------------------------------

export type CommandOf<T extends Command["type"]> = Extract<Command, { type: T }>;

export function commandsOf<T extends Command["type"]>(commands: readonly Command[], type: T): CommandOf<T>[] {
  return commands.filter((command): command is CommandOf<T> => command.type === type);
}

export function executed(t: Transition): string[] {
  return commandsOf(t.commands, "execute").map((command) => command.nodeId);
}

export function timersSet(t: Transition): Timer[] {
  return commandsOf(t.commands, "set-timer").map((command) => command.timer);
}

export function statuses(state: RunState): Record<string, StepStatus> {
  return Object.fromEntries(Object.values(state.steps).map((step) => [step.nodeId, step.status]));
}

// ---- driver --------------------------------------------------------------------------------

/**
 * Drives one run through the engine. Every input state is deep-frozen and compared against
 * a JSON snapshot after the call, so every test in the suite also checks purity.
 */
export class Driver {
  readonly plan: Plan;
  state: RunState;
  readonly history: Transition[] = [];

  constructor(p: Plan, identity: { runId?: string; createdAt?: number } = {}) {
    this.plan = deepFreeze(p);
    this.state = initialRunState(p, { runId: identity.runId ?? "run-1", createdAt: identity.createdAt ?? 0 });
  }

  send(event: RunEvent, now: number): Transition {
    const input = deepFreeze(this.state);
    const before = JSON.stringify(input);
    const result = transition(this.plan, input, event, now);
    expect(JSON.stringify(input), "transition mutated its input state").toBe(before);
    if (!result.changed) {
      expect(result.state).toBe(input);
      expect(result.changedSteps).toEqual([]);
    }
    this.state = result.state;
    this.history.push(result);
    return result;
  }

  start(now = 0): Transition {
    return this.send({ type: "start" }, now);
  }

  result(nodeId: string, outcome: NodeOutcome, now: number, attempt?: number): Transition {
    return this.send({ type: "node-result", nodeId, attempt: attempt ?? this.step(nodeId).attempts, outcome }, now);
  }

  fire(timer: Timer, now = timer.at): Transition {
    return this.send({ type: "timer", timer }, now);
  }

  resume(now: number): Transition {
    return this.send({ type: "resume" }, now);
  }

  cancel(now: number, reason?: string): Transition {
    return this.send(reason === undefined ? { type: "cancel" } : { type: "cancel", reason }, now);
  }

  step(nodeId: string) {
    const step = this.state.steps[nodeId];
    if (!step) throw new Error(`fixture: no step ${nodeId}`);
    return step;
  }

  statuses(): Record<string, StepStatus> {
    return statuses(this.state);
  }

  /** The one timer the last transition set. */
  lastTimer(): Timer {
    const last = this.history[this.history.length - 1];
    const timers = last ? timersSet(last) : [];
    expect(timers).toHaveLength(1);
    return timers[0] as Timer;
  }

  /** The most recent timer set for a node, in any transition so far. */
  lastTimerOf(nodeId: string): Timer {
    const timer = this.history
      .flatMap((t) => timersSet(t))
      .filter((candidate) => candidate.nodeId === nodeId)
      .at(-1);
    if (!timer) throw new Error(`fixture: no timer was set for ${nodeId}`);
    return timer;
  }
}
