import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import type { RecordedRequest } from "../support/test-server";

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Asserts an error response's status and stable code, and returns its body. */
export async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe("string");
  return body;
}

export function runObject(runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

/** Fires the run's alarm (its earliest timer) without waiting for the wall clock. */
export function fireAlarm(runId: string): Promise<boolean> {
  return runDurableObjectAlarm(runObject(runId));
}

/** The real HTTP server from global setup: what http nodes call. */
export const testServer = {
  get url(): string {
    return inject("testServerUrl");
  },
  async requests(path?: string): Promise<RecordedRequest[]> {
    const all = (await (await fetch(`${this.url}/__requests`)).json()) as RecordedRequest[];
    return path === undefined ? all : all.filter((request) => request.path === path);
  },
  async script(path: string, responses: { status: number; body?: unknown; headers?: Record<string, string> }[]) {
    const response = await fetch(`${this.url}/__script`, { method: "POST", body: JSON.stringify({ path, responses }) });
    expect(response.status).toBe(200);
  },
};

/** Counts D1 rows of one table for one workflow's runs (checkpoints land behind the run). */
export async function countRuns(workflowId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS count FROM runs WHERE workflow_id = ?")
    .bind(workflowId)
    .first<{ count: number }>();
  return row?.count ?? 0;
}
