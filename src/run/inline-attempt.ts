import type { RunEvent } from "../engine/events";
import type { RunState } from "../engine/state";
import type { Env } from "../env";
import type { JsonObject } from "../lib/json";
import type { LlmPort } from "../llm/types";
import { nodeSpec } from "../nodes/registry";
import { attemptJob, type ExecuteCommand, runAttempt } from "./attempt";
import type { Children } from "./children";
import { contextUnavailable, type LiveContext, storedOutcome } from "./live-context";
import type { LoadedPlan } from "./plans";
import type { SpanLog } from "./spans";

export interface InlineAttemptHost {
  env: Env;
  state(): RunState | undefined;
  loaded(): LoadedPlan | undefined;
  llm(): LlmPort | undefined;
  blobs: LiveContext;
  children: Children;
  spans: SpanLog;
  dispatch(event: RunEvent): void;
}

/**
 * One attempt run inside the run's own object (sequential steps, and a lone io step): the node
 * runs against the live context, large output values go to R2 and children are resolved before
 * the engine (and so the run's SQLite) sees the outcome.
 */
export async function runInlineAttempt(host: InlineAttemptHost, command: ExecuteCommand): Promise<void> {
  const state = host.state();
  const loaded = host.loaded();
  if (!state || !loaded) return;
  const result = (outcome: Extract<RunEvent, { type: "node-result" }>["outcome"]) =>
    host.dispatch({
      type: "node-result",
      nodeId: command.nodeId,
      attempt: command.attempt,
      outcome,
      ...(command.compensate ? { compensate: true } : {}),
    });
  let context: JsonObject;
  try {
    // Nodes that show what they read to people or logs read sensitive values redacted.
    const shows = nodeSpec(loaded.plan.nodes[command.nodeId]?.type ?? "")?.redactsSensitive === true;
    context = shows ? await host.blobs.redacted() : await host.blobs.resolved();
  } catch (thrown) {
    return result({ type: "failure", error: contextUnavailable(thrown) });
  }
  const job = attemptJob(host.env, loaded, state, context, command);
  if (!job) return;
  const llm = host.llm();
  const ran = await runAttempt(job, { env: host.env, ...(llm ? { llm } : {}) });
  let outcome = await storedOutcome(host.blobs, command.nodeId, ran.outcome);
  // Children: resolve what they run (D1) first; their inputs commit with the outcome below.
  const spawned = outcome.type === "spawn" ? await host.children.prepare(command, outcome) : undefined;
  if (spawned) outcome = spawned.outcome;
  host.spans.attempt(state, job.node, command.attempt, ran.startedAt, outcome, ran.endedAt, command.compensate);
  spawned?.commit?.();
  result(outcome);
}
