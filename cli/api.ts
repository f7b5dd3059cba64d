import type { WorkflowDefinition } from "../src/definition/schema";
import type { ExecutionReport } from "../src/run/report";
import type { TestResult } from "../src/run/test-cases";
import { ApiError, type Client } from "./client";

/**
 * The routes the command line calls, typed. Answer types come from the server's own modules
 * where they exist; the rest mirror README.md's API table. Written as plain functions over
 * `Client` so a client generated from the OpenAPI document can replace them one by one.
 */

export interface StoredWorkflow {
  workflowId: string;
  version: number;
  hash: string;
  createdAt: number;
  definition: WorkflowDefinition;
  enabled: boolean;
  versions: { version: number; hash: string; createdAt: number }[];
}

export interface Registered {
  workflowId: string;
  version: number;
  hash: string;
  createdAt: number;
  /** Set when the server found the definition equal to its latest version and made none. */
  unchanged?: boolean;
  schedule?: { nextAt: number };
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  version: number;
  status: string;
  trigger: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: { code?: string; message?: string } | null;
  parentRunId: string | null;
}

export interface Started {
  runId: string;
  status: string;
  version?: number;
}

export interface Replayed {
  runId: string;
  replayOf: string;
  fromNode: string;
  status: string;
  taken: string[];
}

export interface Retried {
  runId: string;
  status: string;
  version: number;
  fromVersion: number;
  restarted: string[];
}

export interface OutboxMessage {
  id: string;
  runId: string | null;
  nodeId: string | null;
  purpose: string;
  to: string;
  subject: string;
  links: string[];
  status: string;
  createdAt: number;
}

export interface Decided {
  runId: string;
  nodeId: string;
  decision: string;
  approver: string;
  runStatus: string;
  stepStatus: string;
}

export interface Published {
  eventId: string;
  name: string;
  runs: { workflowId: string; status: string; runId?: string; error?: { code: string; message: string } }[];
}

export interface DeadLetter {
  runId: string;
  workflowId: string;
  version: number;
  failedAt: number;
  error: { code?: string; message?: string; nodeId?: string } | null;
  nodes: { nodeId: string; type: string; attempts: number; error: unknown }[];
}

export interface TestRun {
  passed: number;
  failed: number;
  results: TestResult[];
}

export type { ExecutionReport, TestResult };

const id = encodeURIComponent;

export function createApi(client: Client) {
  return {
    /** The latest stored version, or undefined when the server has no such workflow. */
    async workflow(workflowId: string, version?: number): Promise<StoredWorkflow | undefined> {
      try {
        return await client.request<StoredWorkflow>("GET", `/api/workflows/${id(workflowId)}`, { query: { version } });
      } catch (thrown) {
        if (thrown instanceof ApiError && thrown.status === 404) return undefined;
        throw thrown;
      }
    },
    register: (definition: unknown) => client.request<Registered>("POST", "/api/workflows", { body: definition }),
    startRun: (workflowId: string, body: { input: unknown; idempotencyKey?: string }) =>
      client.request<Started>("POST", `/api/workflows/${id(workflowId)}/runs`, { body }),
    test: (workflowId: string, body: { tests: true | string[]; definition?: unknown }) =>
      client.request<TestRun>("POST", `/api/workflows/${id(workflowId)}/test`, { body }),
    runs: (query: { workflow?: string; status?: string; parent?: string; limit?: number; cursor?: string }) =>
      client.request<{ runs: RunSummary[]; nextCursor: string | null }>("GET", "/api/runs", { query }),
    report: (runId: string) => client.request<ExecutionReport>("GET", `/api/runs/${id(runId)}`),
    cancel: (runId: string) =>
      client.request<{ runId: string; status: string }>("POST", `/api/runs/${id(runId)}/cancel`),
    retry: (runId: string, body: { version?: "latest" | number }) =>
      client.request<Retried>("POST", `/api/runs/${id(runId)}/retry`, { body }),
    pause: (runId: string, body: { reason?: string }) =>
      client.request<{ runId: string; status: string }>("POST", `/api/runs/${id(runId)}/pause`, { body }),
    resume: (runId: string) =>
      client.request<{ runId: string; status: string }>("POST", `/api/runs/${id(runId)}/resume`),
    replay: (runId: string, body: { fromNode: string; context?: unknown }) =>
      client.request<Replayed>("POST", `/api/runs/${id(runId)}/replay`, { body }),
    outbox: (query: { run?: string; limit?: number }) =>
      client.request<{ messages: OutboxMessage[] }>("GET", "/api/outbox", { query }),
    /** An approval link's path (`/approvals/<token>`): the decision is recorded as the link's approver. */
    decide: (linkPath: string, body: { decision: string; comment?: string }) =>
      client.request<Decided>("POST", linkPath, { body }),
    publish: (body: { name: string; id?: string; payload?: unknown }) =>
      client.request<Published>("POST", "/api/events", { body }),
    deadLetters: (query: { workflow?: string; limit?: number; cursor?: string }) =>
      client.request<{ count: number; deadLetters: DeadLetter[]; nextCursor: string | null }>(
        "GET",
        "/api/dead-letters",
        { query },
      ),
    requeue: (runId: string, body: { version?: "latest" | number }) =>
      client.request<Retried>("POST", `/api/dead-letters/${id(runId)}/requeue`, { body }),
  };
}

export type Api = ReturnType<typeof createApi>;
