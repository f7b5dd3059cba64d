import type { Command } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import type { PlanNode } from "../engine/plan";
import { errorData, toErrorData } from "../errors";
import type { JsonObject } from "../lib/json";
import type { LlmAttemptContext } from "../llm/types";
import { nodeSpec } from "../nodes/registry";
import type { NodePorts, NodeSpec } from "../nodes/types";

export interface ExecuteInput {
  command: Extract<Command, { type: "execute" }>;
  node: PlanNode;
  config: unknown;
  runId: string;
  workflowId: string;
  context: Readonly<JsonObject>;
  ports: NodePorts;
  now: number;
  /** llm nodes: the model chain position, the run's spend, budget and prices. */
  llm?: LlmAttemptContext;
  /** Runs instead of the node type's own `execute` (a dry run's mocked outcome), under the same checks. */
  execute?: NodeSpec["execute"];
}

/**
 * Runs one node attempt and turns whatever happens into an outcome: a timeout, a throw and
 * an undeclared write all become failures the engine can retry or report.
 */
export async function executeNode(input: ExecuteInput): Promise<NodeOutcome> {
  const { command, node } = input;
  const spec = nodeSpec(node.type);
  if (!spec) return { type: "failure", error: errorData("node.failed", `unknown node type ${node.type}`) };
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<NodeOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        type: "failure",
        error: errorData("node.timeout", `${node.id} timed out after ${command.timeoutMs}ms`, { retryable: true }),
      });
    }, command.timeoutMs);
  });
  try {
    // A compensate command runs the node type's compensation with the compensate's config.
    const execute = command.compensate ? spec.compensation?.execute : spec.execute;
    if (!execute) return { type: "failure", error: errorData("node.failed", `${node.type} nodes cannot compensate`) };
    const run = (input.execute ?? execute)(input.config, {
      runId: input.runId,
      workflowId: input.workflowId,
      nodeId: node.id,
      attempt: command.attempt,
      idempotencyKey: command.idempotencyKey,
      context: input.context,
      now: input.now,
      timeoutMs: command.timeoutMs,
      signal: controller.signal,
      ports: input.ports,
      successors: node.succs,
      ...(input.llm ? { llm: input.llm } : {}),
    });
    const outcome = await Promise.race([run, timeout]);
    if (outcome.type === "success" && !command.compensate) {
      const allowed = spec.writes(input.config);
      const stray = Object.keys(outcome.output).filter((key) => !allowed.includes(key));
      if (stray.length > 0) {
        return {
          type: "failure",
          error: errorData("node.output_invalid", `${node.id} wrote undeclared keys: ${stray.join(", ")}`),
        };
      }
    }
    return outcome;
  } catch (thrown) {
    return { type: "failure", error: toErrorData(thrown, "node.failed") };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
