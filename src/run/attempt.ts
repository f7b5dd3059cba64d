import { llmPortFor } from "../adapters/llm";
import type { Command } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import type { PlanNode } from "../engine/plan";
import type { RunState } from "../engine/state";
import type { Env } from "../env";
import type { JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { limitPortFor } from "../limits/port";
import type { LlmAttemptContext, LlmPort } from "../llm/types";
import type { NodePorts } from "../nodes/types";
import { compensationContext } from "./compensation-context";
import { executeNode } from "./execute-node";
import { filePortFor } from "./file-port";
import { llmAttemptInput } from "./llm-shell";
import type { LoadedPlan } from "./plans";
import { compensationSpanKey, tracedFetch } from "./spans";

export type ExecuteCommand = Extract<Command, { type: "execute" }>;

/**
 * Everything one node attempt needs, taken from the run when it starts: the run object builds
 * it for attempts it runs itself, and hands it to a queue consumer that claims a dispatched one.
 * Plain data, so it crosses RPC as is.
 */
export interface AttemptJob {
  command: ExecuteCommand;
  node: PlanNode;
  config: unknown;
  runId: string;
  workflowId: string;
  /** The run's context when the attempt started. */
  context: Readonly<JsonObject>;
  /** llm nodes: the model chain position, the run's spend, budget and prices. */
  llm?: LlmAttemptContext;
}

/** What an attempt came to, with its times (the run records its span from them). */
export interface AttemptResult {
  nodeId: string;
  attempt: number;
  outcome: NodeOutcome;
  startedAt: number;
  endedAt: number;
}

export function attemptJob(
  env: Env,
  loaded: LoadedPlan,
  state: RunState,
  context: Readonly<JsonObject>,
  command: ExecuteCommand,
): AttemptJob | undefined {
  const node = loaded.plan.nodes[command.nodeId];
  if (!node) return undefined;
  const llm = llmAttemptInput(env, loaded.plan, state, node.id, (message) =>
    logLine("warn", message, { runId: state.runId, nodeId: node.id }),
  );
  if (command.compensate) {
    return {
      command,
      node,
      config: node.compensate?.config,
      runId: state.runId,
      workflowId: state.workflowId,
      context: compensationContext(context, state.steps[node.id]?.output),
    };
  }
  return {
    command,
    node,
    config: loaded.configs[node.id],
    runId: state.runId,
    workflowId: state.workflowId,
    context,
    ...(llm ? { llm } : {}),
  };
}

/**
 * Runs one attempt with the real ports, the same way wherever it runs (inside the run's object
 * or in a queue consumer): requests carry the attempt's span as `traceparent`, log lines carry
 * run, node and attempt.
 */
export async function runAttempt(job: AttemptJob, shell: { env: Env; llm?: LlmPort }): Promise<AttemptResult> {
  const { command, node, runId } = job;
  const startedAt = Date.now();
  const ports: NodePorts = {
    // Outgoing requests carry the attempt's span as `traceparent`, so the callee joins the trace.
    fetch: (request) =>
      fetch(tracedFetch(request, runId, command.compensate ? compensationSpanKey(node.id) : node.id, command.attempt)),
    log: (entry) =>
      logLine(entry.level, entry.message, { runId, nodeId: node.id, attempt: command.attempt, data: entry.data }),
    llm: shell.llm ?? llmPortFor(shell.env, shell.env.DB),
    files: filePortFor(shell.env, runId),
    limits: limitPortFor(shell.env),
  };
  const outcome = await executeNode({
    command,
    node,
    config: job.config,
    runId,
    workflowId: job.workflowId,
    context: job.context,
    ports,
    now: Date.now(),
    ...(job.llm ? { llm: job.llm } : {}),
  });
  if (outcome.type === "failure") {
    logLine("warn", "attempt failed", { runId, nodeId: node.id, attempt: command.attempt, error: outcome.error });
  }
  return { nodeId: node.id, attempt: command.attempt, outcome, startedAt, endedAt: Date.now() };
}
