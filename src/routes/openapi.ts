import { runStatuses, skipReasons, stepStatuses } from "../engine/state";
import { errorStatus } from "../errors";
import { error, errorResponses, idParam, json } from "./openapi-common";
import { keyPaths } from "./openapi-keys";

const runStart = json({
  type: "object",
  properties: {
    /** Absent for rate_limited; for skipped, the active run of the singleton's key. */
    runId: { type: "string" },
    status: { enum: ["queued", "duplicate", "rate_limited", "skipped"] },
    version: { type: "integer" },
  },
});
/** Large context values are references (`{"$signalbox.blob", size, type}`) unless this is true. */
const inlineParam = { name: "inline", in: "query", schema: { type: "boolean" } };
/** Plain decimal digits only; anything else is 400 `request.invalid` naming the parameter. */
const limitParam = { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } };
const stringParams = (...names: string[]) => names.map((name) => ({ name, in: "query", schema: { type: "string" } }));

type Operation = { responses: Record<string, unknown> };

/**
 * Every route that needs a token may also be refused for the role: 403 `auth.forbidden`, its
 * details naming the permission (docs/security.md has the table).
 */
function withForbidden<T extends Record<string, Record<string, Operation>>>(paths: T): T {
  for (const [path, operations] of Object.entries(paths)) {
    // Hooks and approval links are not behind roles: their 401s are signatures and link tokens.
    if (!path.startsWith("/api/")) continue;
    for (const operation of Object.values(operations)) {
      if ("401" in operation.responses && !("403" in operation.responses)) {
        operation.responses["403"] = { description: "error", ...json(error) };
      }
    }
  }
  return paths;
}

/** The API as OpenAPI 3.1: paths and their error statuses; node configs live in docs/definitions.md. */
export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Signalbox",
    version: "0.1.0",
    description:
      "Durable workflow runs on Cloudflare Workers. A bearer token is the API_TOKEN or an API key; what each role may call is in docs/security.md.",
  },
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
                // Codes a response can carry: every 4xx and 503 (500s answer `internal.error`).
                enum: Object.keys(errorStatus).filter((code) => errorStatus[code as keyof typeof errorStatus] !== 500),
              },
              message: { type: "string" },
              details: {},
            },
          },
        },
      },
      /** The report's statuses; the rest of its fields are in the README. */
      ExecutionReport: {
        type: "object",
        properties: {
          status: { enum: [...runStatuses] },
          steps: {
            type: "array",
            items: {
              type: "object",
              properties: {
                nodeId: { type: "string" },
                status: { enum: [...stepStatuses] },
                // Set on a skipped step the run ended before reaching; null when a branch skipped it.
                skip: {
                  oneOf: [
                    { type: "null" },
                    { type: "object", required: ["reason"], properties: { reason: { enum: [...skipReasons] } } },
                  ],
                },
              },
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: withForbidden({
    ...keyPaths,
    "/api/workflows": {
      get: { summary: "List workflows", responses: { "200": { description: "workflows" }, ...errorResponses(401) } },
      post: {
        summary: "Register a definition as a new immutable version; one equal to the latest version makes none",
        requestBody: json({ type: "object" }),
        responses: {
          "201": { description: "registered: {workflowId, version, hash, createdAt, schedule?: {nextAt}}" },
          "200": {
            description: "unchanged: the latest version, {workflowId, version, hash, createdAt, unchanged: true}",
          },
          ...errorResponses(400, 401, 413, 422),
        },
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
          "200": {
            description: "duplicate, rate_limited (flow.rateLimit) or skipped (flow.singleton): no new run",
            ...runStart,
          },
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
          "200": {
            description: "duplicate, rate_limited (flow.rateLimit) or skipped (flow.singleton): no new run",
            ...runStart,
          },
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
        parameters: [...stringParams("workflow", "status", "parent", "cursor"), limitParam],
        responses: { "200": { description: "runs and nextCursor" }, ...errorResponses(400, 401) },
      },
    },
    "/api/runs/{runId}": {
      get: {
        summary: "Execution report (large context values as references unless inline=true)",
        parameters: [idParam("runId"), inlineParam],
        responses: {
          "200": { description: "report", ...json({ $ref: "#/components/schemas/ExecutionReport" }) },
          ...errorResponses(400, 401, 404),
        },
      },
      delete: {
        summary: "Delete an ended run and its child runs: their R2 blobs, objects' storage and D1 rows",
        parameters: [idParam("runId")],
        responses: { "200": { description: "what was removed" }, ...errorResponses(401, 404, 409) },
      },
    },
    "/api/runs/{runId}/context": {
      get: {
        summary: "Context at a version, with its hash (large values as references unless inline=true)",
        parameters: [
          idParam("runId"),
          { name: "version", in: "query", schema: { type: "integer", minimum: 0 } },
          inlineParam,
        ],
        responses: { "200": { description: "version, hash and context" }, ...errorResponses(400, 401, 404) },
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
        parameters: [...stringParams("run", "to"), limitParam],
        responses: { "200": { description: "messages" }, ...errorResponses(400, 401) },
      },
    },
    "/api/email/rejections": {
      get: {
        summary:
          "Messages the email trigger refused, newest first: {rejections: [{id, receivedAt, from, to, messageId, workflowId, code, reason, size}], cursor}",
        parameters: [...stringParams("workflow", "cursor"), limitParam],
        responses: { "200": { description: "rejections" }, ...errorResponses(400, 401) },
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
          ...errorResponses(400, 403, 404, 409, 410, 413, 415, 422),
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
    // ---- operations ----
    "/api/runs/{runId}/retry": {
      post: {
        summary: "Retry a failed run from its failed steps; completed steps are kept. {version?: 'latest' | N}",
        parameters: [idParam("runId")],
        requestBody: json({
          type: "object",
          properties: { version: { oneOf: [{ const: "latest" }, { type: "integer" }] } },
        }),
        responses: {
          "200": { description: "{runId, status, version, fromVersion, restarted}" },
          ...errorResponses(400, 401, 404, 409, 413),
        },
      },
    },
    "/api/runs/{runId}/replay": {
      post: {
        summary: "Replay an ended run from a node, as a new linked run; steps before it are taken from the original",
        parameters: [idParam("runId")],
        requestBody: json({
          type: "object",
          required: ["fromNode"],
          properties: { fromNode: { type: "string" }, context: { type: "object" } },
        }),
        responses: {
          "202": { description: "{runId, replayOf, fromNode, status, taken}" },
          ...errorResponses(400, 401, 404, 409, 413, 422),
        },
      },
    },
    "/api/runs/{runId}/pause": {
      post: {
        summary: "Pause: no node starts, timers that come due are held",
        parameters: [idParam("runId")],
        requestBody: json({ type: "object", properties: { reason: { type: "string", maxLength: 500 } } }),
        responses: { "200": { description: "{runId, status, pausedAt}" }, ...errorResponses(400, 401, 404, 409, 413) },
      },
    },
    "/api/runs/{runId}/resume": {
      post: {
        summary: "Resume a paused run: held timers fire, ready nodes start",
        parameters: [idParam("runId")],
        responses: { "200": { description: "{runId, status, released}" }, ...errorResponses(401, 404, 409) },
      },
    },
    "/api/runs/{runId}/context/diff": {
      get: {
        summary: "Changes between two context versions, as JSON Pointer changes",
        parameters: [
          idParam("runId"),
          { name: "from", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "to", in: "query", schema: { type: "integer", minimum: 0 } },
        ],
        responses: { "200": { description: "{runId, from, to, changes}" }, ...errorResponses(400, 401, 404) },
      },
    },
    "/api/runs/{runId}/operations": {
      get: {
        summary: "What operators did to the run (and replays made from it), newest first",
        parameters: [idParam("runId")],
        responses: { "200": { description: "{runId, operations}" }, ...errorResponses(401, 404) },
      },
    },
    "/api/runs/bulk": {
      post: {
        summary:
          "Rerun, cancel, pause or resume the runs a filter (or a list of run ids) matches; dryRun lists them first",
        requestBody: json({
          type: "object",
          required: ["action", "filter"],
          properties: {
            action: { enum: ["rerun", "cancel", "pause", "resume"] },
            dryRun: { type: "boolean" },
            limit: { type: "integer", minimum: 1, maximum: 500 },
            version: { oneOf: [{ const: "latest" }, { type: "integer" }] },
            filter: {
              type: "object",
              properties: {
                runIds: {
                  type: "array",
                  minItems: 1,
                  maxItems: 200,
                  items: { type: "string", pattern: "^run_[0-9a-z]{26}" },
                  description: "only these runs; with other fields, a run must match them too",
                },
                workflow: { type: "string" },
                version: { type: "integer" },
                status: { type: "string" },
                failedNode: { type: "string" },
                errorCode: { type: "string" },
                from: { oneOf: [{ type: "string" }, { type: "integer" }] },
                to: { oneOf: [{ type: "string" }, { type: "integer" }] },
              },
            },
          },
        }),
        responses: {
          "200": { description: "the matched runs and, unless dryRun, each outcome" },
          ...errorResponses(400, 401, 413),
        },
      },
    },
    "/api/dead-letters": {
      get: {
        summary: "Failed runs with the steps that exhausted their attempts and escalation; count",
        parameters: [...stringParams("workflow", "cursor"), limitParam],
        responses: { "200": { description: "{count, deadLetters, nextCursor}" }, ...errorResponses(400, 401) },
      },
    },
    "/api/dead-letters/{runId}/requeue": {
      post: {
        summary: "Requeue a dead letter: retry it from its failed steps",
        parameters: [idParam("runId")],
        responses: {
          "200": { description: "{runId, status, version, restarted}" },
          ...errorResponses(400, 401, 404, 409),
        },
      },
    },
    "/api/metrics": {
      get: {
        summary:
          "Runs by status, rates, queue lag, step and attempt percentiles, retries, dead letters; JSON or Prometheus text (Accept: text/plain)",
        parameters: stringParams("window", "workflow", "format"),
        responses: { "200": { description: "metrics" }, ...errorResponses(400, 401) },
      },
    },
    "/api/workflows/{id}/test": {
      post: {
        summary:
          "Dry run with sample input and mocks (no side effects, nothing recorded), or the definition's test cases",
        parameters: [idParam("id")],
        requestBody: json({
          type: "object",
          properties: {
            input: {},
            mocks: { type: "object" },
            http: { type: "array" },
            llm: { type: "array" },
            version: { type: "integer" },
            definition: { type: "object" },
            tests: { oneOf: [{ const: true }, { type: "array", items: { type: "string" } }] },
            now: { type: "integer" },
          },
        }),
        responses: {
          "200": { description: "the execution report, or test results" },
          ...errorResponses(400, 401, 404, 413, 422),
        },
      },
    },
  }),
};
