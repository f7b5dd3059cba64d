import type { WorkflowDefinition } from "../src/definition/schema";
import type { ExecutionReport } from "../src/run/report";
import type { TestResult } from "../src/run/test-cases";
import type { operations } from "./api-types";
import { ApiError, type Client } from "./client";

/**
 * The routes the command line calls, through the typed client: paths, parameters and bodies
 * are checked against the types generated from the server's OpenAPI document
 * (cli/api-types.ts), and so are the answers the document describes. Where the document leaves
 * an answer loose (the execution report, test results), the server's own types are used.
 */

/** The JSON body of an operation's answer with the given status. */
type Answer<O, S extends number = 200> = O extends {
  responses: { [K in S]: { content: { "application/json": infer T } } };
}
  ? T
  : never;

export type StoredWorkflow = Omit<Answer<operations["getApiWorkflowsById"]>, "definition"> & {
  definition: WorkflowDefinition;
};
export type Registered = Answer<operations["postApiWorkflows"], 201>;
export type RunSummary = Answer<operations["getApiRuns"]>["runs"][number];
export type Started = Answer<operations["postApiWorkflowsByIdRuns"], 202>;
export type Replayed = Answer<operations["postApiRunsByRunIdReplay"], 202>;
export type Retried = Answer<operations["postApiRunsByRunIdRetry"]>;
export type Decided = Answer<operations["postApiRunsByRunIdApprovalsByNodeId"]>;
export type Decision = NonNullable<
  operations["postApiRunsByRunIdApprovalsByNodeId"]["requestBody"]
>["content"]["application/json"]["decision"];
export type Published = Answer<operations["postApiEvents"], 202>;
export type DeadLetter = Answer<operations["getApiDeadLetters"]>["deadLetters"][number];

export interface TestRun {
  passed: number;
  failed: number;
  results: TestResult[];
}

export type { ExecutionReport, TestResult };

/** Every call's answer: `send` in client.ts has already turned refusals into errors. */
async function data<T>(call: Promise<{ data?: T }>): Promise<T> {
  return (await call).data as T;
}

export function createApi(client: Client) {
  const http = client.http;
  const run = (runId: string) => ({ params: { path: { runId } } });
  return {
    /** The latest stored version, or undefined when the server has no such workflow. */
    async workflow(workflowId: string, version?: number): Promise<StoredWorkflow | undefined> {
      try {
        const query = version === undefined ? {} : { version };
        const stored = await data(http.GET("/api/workflows/{id}", { params: { path: { id: workflowId }, query } }));
        return stored as StoredWorkflow;
      } catch (thrown) {
        if (thrown instanceof ApiError && thrown.status === 404) return undefined;
        throw thrown;
      }
    },
    register: (definition: unknown) =>
      data(http.POST("/api/workflows", { body: definition as Record<string, unknown> })) as Promise<Registered>,
    startRun: (workflowId: string, body: { input: unknown; idempotencyKey?: string }) =>
      data(http.POST("/api/workflows/{id}/runs", { params: { path: { id: workflowId } }, body })) as Promise<Started>,
    test: async (workflowId: string, body: { tests: true | string[]; definition?: unknown }) =>
      (await data(
        http.POST("/api/workflows/{id}/test", {
          params: { path: { id: workflowId } },
          body: {
            tests: body.tests,
            ...(body.definition ? { definition: body.definition as Record<string, unknown> } : {}),
          },
        }),
      )) as unknown as TestRun,
    runs: (query: {
      workflow?: string;
      status?: RunSummary["status"];
      parent?: string;
      limit?: number;
      cursor?: string;
    }) => data(http.GET("/api/runs", { params: { query } })),
    report: async (runId: string) =>
      (await data(http.GET("/api/runs/{runId}", run(runId)))) as unknown as ExecutionReport,
    cancel: (runId: string) => data(http.POST("/api/runs/{runId}/cancel", run(runId))),
    retry: (runId: string, body: { version?: "latest" | number }) =>
      data(http.POST("/api/runs/{runId}/retry", { ...run(runId), body })),
    pause: (runId: string, body: { reason?: string }) =>
      data(http.POST("/api/runs/{runId}/pause", { ...run(runId), body })),
    resume: (runId: string) => data(http.POST("/api/runs/{runId}/resume", run(runId))),
    replay: (runId: string, body: { fromNode: string; context?: Record<string, unknown> }) =>
      data(http.POST("/api/runs/{runId}/replay", { ...run(runId), body })),
    /** Decides a step waiting for a person on an approver's behalf; the audit names the key's holder. */
    decide: (runId: string, nodeId: string, body: { decision: Decision; comment?: string; approver?: string }) =>
      data(http.POST("/api/runs/{runId}/approvals/{nodeId}", { params: { path: { runId, nodeId } }, body })),
    publish: (body: { name: string; id?: string; payload?: unknown }) => data(http.POST("/api/events", { body })),
    deadLetters: (query: { workflow?: string; limit?: number; cursor?: string }) =>
      data(http.GET("/api/dead-letters", { params: { query } })),
    requeue: (runId: string, body: { version?: "latest" | number }) =>
      data(http.POST("/api/dead-letters/{runId}/requeue", { ...run(runId), body })),
  };
}

export type Api = ReturnType<typeof createApi>;
