import { describe, expect, it } from "vitest";
import committed from "../../schema/openapi.json";
import { createApp } from "../../src/routes/app";
import { api } from "./helpers";

type Operation = {
  summary?: string;
  responses: Record<string, { description?: string; content?: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  parameters?: { name: string; in: string }[];
  security?: unknown[];
};
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

async function openApi(): Promise<Document> {
  const response = await api("/api/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** Not part of the API: the dashboard's pages and forms (docs/dashboard.md) and the bench's seeding routes. */
const notApi = [/^\/ui(\/|$)/, /^\/api\/__bench\//];

/** `/runs/:runId` and `/files/:key{.+}` as OpenAPI writes them: `/runs/{runId}`, `/files/{key}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

function servedRoutes(): string[] {
  const routes = createApp()
    .routes.filter((route) => route.method !== "ALL" && !notApi.some((pattern) => pattern.test(route.path)))
    .map((route) => `${route.method} ${openApiPath(route.path)}`);
  return [...new Set(routes)].sort();
}

function documentedRoutes(document: Document): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("GET /api/openapi.json", () => {
  it("documents every route the app serves, and only those", async () => {
    const document = await openApi();
    const served = servedRoutes();
    // The app's own router is the list: a route added without a spec, or a spec without a route, fails here.
    expect(documentedRoutes(document)).toEqual(served);
    // A floor, so an empty router cannot pass: the API has these at least.
    expect(served).toEqual(
      expect.arrayContaining([
        "POST /api/workflows",
        "POST /api/workflows/{id}/runs",
        "GET /api/runs/{runId}",
        "POST /api/runs/{runId}/replay",
        "PUT /api/files/{key}",
        "POST /approvals/{token}",
        "POST /hooks/{workflowId}",
        "GET /api/openapi.json",
      ]),
    );
  });

  it("is an OpenAPI 3.1 document: every operation has a summary, responses and its path parameters", async () => {
    const document = await openApi();
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({ title: "Signalbox", version: expect.any(String) });
    expect(document.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    for (const [path, operations] of Object.entries(document.paths)) {
      expect(path, path).toMatch(/^\/[^:*]*$/);
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        expect(["get", "put", "post", "delete", "patch"], where).toContain(method);
        expect(operation.summary, where).toEqual(expect.any(String));
        const statuses = Object.keys(operation.responses);
        expect(statuses.length, where).toBeGreaterThan(0);
        for (const status of statuses) expect(status, where).toMatch(/^[1-5]\d\d$/);
        for (const response of Object.values(operation.responses)) {
          expect(response.description, where).toEqual(expect.any(String));
        }
        const declared = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared.sort(), where).toEqual([...pathParams].sort());
        if (operation.requestBody)
          expect(Object.keys(operation.requestBody.content), where).toEqual(["application/json"]);
      }
    }
  });

  it("gives each refusal the error shape, and 403 to every /api route behind a token", async () => {
    const document = await openApi();
    expect(Object.keys(document.paths["/hooks/{workflowId}"]?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "202", "400", "404", "413", "422"]),
    );
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
    expect(document.paths["/api/runs/{runId}/pause"]?.post?.responses["409"]?.content).toEqual({
      "application/json": { schema: { $ref: "#/components/schemas/Error" } },
    });
    // Public routes say so: no bearer token for hooks, approval links and the definition schema.
    for (const [method, path] of [
      ["post", "/hooks/{workflowId}"],
      ["post", "/approvals/{token}"],
      ["get", "/api/schema/workflow.json"],
    ] as const) {
      expect(document.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([]);
    }
  });

  it("describes request bodies from the schemas the routes validate with", async () => {
    const document = await openApi();
    const body = (path: string) => document.paths[path]?.post?.requestBody?.content["application/json"]?.schema;
    expect(body("/api/workflows/{id}/runs")).toMatchObject({
      type: "object",
      properties: { idempotencyKey: { type: "string", minLength: 1, maxLength: 200 } },
    });
    expect(body("/api/runs/{runId}/replay")).toMatchObject({
      type: "object",
      required: ["fromNode"],
      properties: { fromNode: { type: "string", minLength: 1 } },
    });
    expect(body("/api/runs/{runId}/pause")).toMatchObject({ properties: { reason: { maxLength: 500 } } });
  });

  it("lists the run and step statuses of the execution report, and why a step was skipped", async () => {
    const document = await openApi();
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

  it("is the document committed at schema/openapi.json, which the client types are generated from", async () => {
    // Stale after a route's spec changed: `npm run api-types` writes both files again.
    expect(await openApi(), "schema/openapi.json is stale: run npm run api-types").toEqual(committed);
  });

  it("needs the API token like every /api route", async () => {
    const response = await api("/api/openapi.json", { headers: { authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("auth.invalid_token");
  });
});
