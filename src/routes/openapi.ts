import { errorStatus } from "../errors";

const error = { $ref: "#/components/schemas/Error" };
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: "error", ...json(error) }]));
const runStart = json({
  type: "object",
  properties: { runId: { type: "string" }, status: { enum: ["queued", "duplicate"] }, version: { type: "integer" } },
});
const idParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });

/** The API as OpenAPI 3.1: paths and their error statuses; node configs live in docs/definitions.md. */
export const openApiDocument = {
  openapi: "3.1.0",
  info: { title: "Signalbox", version: "0.1.0", description: "Durable workflow runs on Cloudflare Workers." },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: {
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: {
              code: {
                enum: Object.keys(errorStatus).filter((code) => errorStatus[code as keyof typeof errorStatus] < 500),
              },
              message: { type: "string" },
              details: {},
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    "/api/workflows": {
      get: { summary: "List workflows", responses: { "200": { description: "workflows" }, ...errorResponses(401) } },
      post: {
        summary: "Register a definition as a new immutable version",
        requestBody: json({ type: "object" }),
        responses: { "201": { description: "registered" }, ...errorResponses(400, 401, 413, 422) },
      },
    },
    "/api/workflows/{id}": {
      get: {
        summary: "One definition, latest or ?version=N",
        parameters: [idParam("id"), { name: "version", in: "query", schema: { type: "integer", minimum: 1 } }],
        responses: { "200": { description: "definition" }, ...errorResponses(400, 401, 404) },
      },
    },
    "/api/workflows/{id}/runs": {
      post: {
        summary: "Start a run (manual trigger)",
        parameters: [idParam("id")],
        requestBody: json({ type: "object", properties: { input: {}, idempotencyKey: { type: "string" } } }),
        responses: {
          "202": { description: "queued", ...runStart },
          "200": { description: "duplicate", ...runStart },
          ...errorResponses(400, 401, 404, 413, 422),
        },
      },
    },
    "/hooks/{workflowId}": {
      post: {
        summary: "Webhook trigger",
        security: [],
        parameters: [idParam("workflowId")],
        responses: {
          "202": { description: "queued", ...runStart },
          "200": { description: "duplicate", ...runStart },
          ...errorResponses(400, 404, 413, 422),
        },
      },
    },
    "/api/runs": {
      get: {
        summary: "List runs, newest first",
        parameters: ["workflow", "status", "limit", "cursor"].map((name) => ({
          name,
          in: "query",
          schema: { type: "string" },
        })),
        responses: { "200": { description: "runs and nextCursor" }, ...errorResponses(400, 401) },
      },
    },
    "/api/runs/{runId}": {
      get: {
        summary: "Execution report",
        parameters: [idParam("runId")],
        responses: { "200": { description: "report" }, ...errorResponses(401, 404) },
      },
    },
    "/api/runs/{runId}/context": {
      get: {
        summary: "Context at a version",
        parameters: [idParam("runId"), { name: "version", in: "query", schema: { type: "integer", minimum: 0 } }],
        responses: { "200": { description: "context" }, ...errorResponses(400, 401, 404) },
      },
    },
    "/api/runs/{runId}/cancel": {
      post: {
        summary: "Cancel an active run",
        parameters: [idParam("runId")],
        responses: { "200": { description: "cancelled" }, ...errorResponses(401, 404, 409) },
      },
    },
  },
} as const;
