import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import type { ExecutionReport } from "../../src/run/report";
import type { LlmRecordedRequest, LlmReply } from "../support/llm-server";
import { register, startManual } from "./helpers";

/** The scripted OpenAI/Anthropic server from global setup, where LLM_BASE_URL points. */
export const llmServer = {
  get url(): string {
    return inject("llmServerUrl");
  },
  async script(model: string, replies: LlmReply[]): Promise<void> {
    const response = await fetch(`${this.url}/__llm/script`, {
      method: "POST",
      body: JSON.stringify({ model, replies }),
    });
    expect(response.status).toBe(200);
  },
  async requests(model: string): Promise<LlmRecordedRequest[]> {
    return (await (
      await fetch(`${this.url}/__llm/requests?model=${encodeURIComponent(model)}`)
    ).json()) as LlmRecordedRequest[];
  },
};

/** Every test scripts its own model name, so tests in parallel files never share replies. */
export function uniqueModel(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The keys configured for the test Worker (vitest.workers.config.ts). */
export function configuredKeys(): string[] {
  return [env.LLM_API_KEY, env.TEST_ANTHROPIC_KEY].filter((key): key is string => typeof key === "string");
}

let counter = 0;

/** Registers a one-node (or more) workflow around llm node configs and starts a manual run. */
export async function runLlm(
  nodes: { id: string; type?: string; config: unknown; retry?: unknown; timeout?: string }[],
  options: { edges?: { from: string; to: string }[]; input?: unknown; extra?: Record<string, unknown> } = {},
): Promise<{ workflowId: string; runId: string }> {
  counter += 1;
  const workflowId = `llm-${counter}-${crypto.randomUUID().slice(0, 6)}`;
  await register({
    id: workflowId,
    name: "llm test",
    nodes: nodes.map((node) => ({ type: "llm", ...node })),
    edges: options.edges ?? [],
    ...options.extra,
  });
  const runId = await startManual(workflowId, options.input ?? {});
  return { workflowId, runId };
}

export function llmStep(report: ExecutionReport, nodeId: string) {
  const step = report.steps.find((entry) => entry.nodeId === nodeId);
  if (!step) throw new Error(`no step ${nodeId} in ${report.runId}`);
  return step;
}
