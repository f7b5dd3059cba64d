import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ExecutionReport } from "../../src/run/report";
import { runStub } from "../../src/triggers/start-run";

export const token = "test-token";

export function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return SELF.fetch(`http://signalbox.test${path}`, { ...init, headers, body: body ?? null });
}

export async function register(definition: unknown): Promise<{ workflowId: string; version: number }> {
  const response = await api("/api/workflows", { method: "POST", json: definition });
  // 200: the definition is already the latest version (unchanged).
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`register failed: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

export async function startManual(workflowId: string, input: unknown = {}): Promise<string> {
  const response = await api(`/api/workflows/${workflowId}/runs`, { method: "POST", json: { input } });
  if (response.status !== 202) throw new Error(`start failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { runId: string }).runId;
}

/** Waits for the run's in-flight attempts and checkpoint flush to finish (no timers involved). */
export async function settle(runId: string): Promise<ExecutionReport> {
  await runStub(env, runId).idle();
  const report = await runStub(env, runId).report();
  if (!report) throw new Error(`no run ${runId}`);
  return report;
}
