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
      delete: {
        summary: "Delete: triggers stop starting runs and the schedule stops; runs and versions stay",
        parameters: [idParam("id")],
        responses: { "200": { description: "deleted" }, ...errorResponses(401, 404) },
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
          ...errorResponses(400, 401, 404, 409, 413, 422),
        },
      },
    },
    "/hooks/{workflowId}": {
      post: {
        summary: "Webhook trigger; a trigger with `verify` checks the signature over the raw body first",
        security: [],
        parameters: [idParam("workflowId")],
        responses: {
          "202": { description: "queued", ...runStart },
          "200": { description: "duplicate", ...runStart },
          ...errorResponses(400, 401, 404, 409, 413, 422),
        },
      },
    },
    "/api/workflows/{id}/schedule": {
      get: {
        summary: "The workflow's schedule: cron, policy, next tick, armed alarm, recent ticks",
        parameters: [idParam("id")],
        responses: { "200": { description: "schedule" }, ...errorResponses(401, 404) },
      },
    },
    "/api/workflows/{id}/disable": {
      post: {
        summary: "Disable: no trigger starts a run, the schedule stops",
        parameters: [idParam("id")],
        responses: { "200": { description: "disabled" }, ...errorResponses(401, 404) },
      },
    },
    "/api/workflows/{id}/enable": {
      post: {
        summary: "Enable again: the schedule resumes from its next tick",
        parameters: [idParam("id")],
        responses: { "200": { description: "enabled" }, ...errorResponses(401, 404) },
      },
    },
    "/api/events": {
      post: {
        summary: "Publish a named event to every subscribed workflow; the id dedups",
        requestBody: json({
          type: "object",
          required: ["name"],
          properties: { name: { type: "string" }, id: { type: "string" }, payload: {}, source: { type: "string" } },
        }),
        responses: {
          "202": { description: "{eventId, name, runs: [{workflowId, status, runId?, error?}]}" },
          ...errorResponses(400, 401, 413),
        },
      },
    },
    "/api/files/{key}": {
      put: {
        summary: "Upload to the FILES bucket; emits the R2 event notification that r2 triggers start from",
        parameters: [idParam("key")],
        responses: { "201": { description: "{bucket, key, size, etag, notified}" }, ...errorResponses(400, 401, 413) },
      },
      get: {
        summary: "Read a file back (how a run follows its object reference)",
        parameters: [idParam("key")],
        responses: { "200": { description: "the file" }, ...errorResponses(401, 404) },
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
    "/api/runs/{runId}/events/{name}": {
      post: {
        summary: "Deliver an event to a run: a waiting step takes it, or it is buffered until one waits",
        parameters: [idParam("runId"), idParam("name")],
        requestBody: json({ type: "object", properties: { payload: {}, id: { type: "string" } } }),
        responses: {
          "202": { description: "consumed by a waiting step, or buffered" },
          "200": { description: "duplicate: an event with this id was delivered before" },
          ...errorResponses(400, 401, 404, 409, 413),
        },
      },
    },
    "/api/outbox": {
      get: {
        summary: "Emails sent or attempted, newest first (with the outbox adapter, their approval links)",
        parameters: ["run", "to", "limit"].map((name) => ({ name, in: "query", schema: { type: "string" } })),
        responses: { "200": { description: "messages" }, ...errorResponses(400, 401) },
      },
    },
    "/approvals/{token}": {
      get: {
        summary: "Approval page: the request and the decision form. Changes nothing.",
        security: [],
        parameters: [idParam("token")],
        responses: {
          "200": { description: "the form (HTML)" },
          "404": { description: "unknown link (HTML)" },
          "409": { description: "the request closed: decided, superseded, or the run ended (HTML)" },
          "410": { description: "the link was used or expired (HTML)" },
        },
      },
      post: {
        summary: "Decide, once: the page's form (with its form token) or JSON {decision, comment?, edits?, output?}",
        security: [],
        parameters: [idParam("token")],
        requestBody: json({
          type: "object",
          required: ["decision"],
          properties: {
            decision: { enum: ["approve", "reject", "retry", "skip", "fail"] },
            comment: { type: "string", maxLength: 2000 },
            edits: { type: "object" },
            output: { type: "object" },
          },
        }),
        responses: {
          "200": { description: "recorded" },
          ...errorResponses(403, 404, 409, 410, 413, 415, 422),
        },
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
