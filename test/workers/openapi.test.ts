import { describe, expect, it } from "vitest";
import { api } from "./helpers";

describe("GET /api/openapi.json", () => {
  it("describes every route of the API with its error statuses", async () => {
    const response = await api("/api/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths).sort()).toEqual([
      "/api/audit",
      "/api/audit/verify",
      "/api/dead-letters",
      "/api/dead-letters/{runId}/requeue",
      "/api/email/rejections",
      "/api/events",
      "/api/files/{key}",
      "/api/keys",
      "/api/keys/{id}",
      "/api/metrics",
      "/api/outbox",
      "/api/runs",
      "/api/runs/bulk",
      "/api/runs/{runId}",
      "/api/runs/{runId}/cancel",
      "/api/runs/{runId}/context",
      "/api/runs/{runId}/context/diff",
      "/api/runs/{runId}/events/{name}",
      "/api/runs/{runId}/hold",
      "/api/runs/{runId}/operations",
      "/api/runs/{runId}/pause",
      "/api/runs/{runId}/replay",
      "/api/runs/{runId}/resume",
      "/api/runs/{runId}/retry",
      "/api/workflows",
      "/api/workflows/{id}",
      "/api/workflows/{id}/disable",
      "/api/workflows/{id}/enable",
      "/api/workflows/{id}/runs",
      "/api/workflows/{id}/schedule",
      "/api/workflows/{id}/test",
      "/approvals/{token}",
      "/hooks/{workflowId}",
    ]);
    expect(Object.keys(document.paths["/hooks/{workflowId}"]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "202", "400", "404", "413", "422"]),
    );
    // Every /api route behind a token may be refused for the role; hooks and approval links are not behind roles.
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        if (statuses.includes("401") && path.startsWith("/api/"))
          expect(statuses, `${method} ${path}`).toContain("403");
      }
    }
    expect(Object.keys(document.paths["/api/keys"]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["201", "400", "401", "403", "422"]),
    );
  });

  it("lists the run and step statuses of the execution report, and why a step was skipped", async () => {
    const document = (await (await api("/api/openapi.json")).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: unknown }> } }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.paths["/api/runs/{runId}"]?.get?.responses["200"]?.content).toEqual({
      "application/json": { schema: { $ref: "#/components/schemas/ExecutionReport" } },
    });
    const step = document.components.schemas.ExecutionReport as {
      properties: { steps: { items: { properties: { status: { enum: string[] }; skip: { oneOf: unknown[] } } } } };
    };
    const { status, skip } = step.properties.steps.items.properties;
    expect(status.enum).toEqual(
      expect.arrayContaining(["pending", "running", "success", "failed", "cancelled", "skipped"]),
    );
    expect(skip.oneOf).toContainEqual({
      type: "object",
      required: ["reason"],
      properties: { reason: { enum: ["run.failed", "run.cancelled"] } },
    });
  });

  it("needs the API token like every /api route", async () => {
    const response = await api("/api/openapi.json", { headers: { authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("auth.invalid_token");
  });
});
