import type { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import { runStatuses, skipReasons, stepStatuses } from "../engine/state";
import type { Env } from "../env";
import { errorStatus } from "../errors";
import { errorSchema, json } from "./openapi-spec";

type Operation = { responses?: Record<string, unknown> };
type Paths = Record<string, Record<string, Operation | undefined>>;

/** What the routes do not say themselves: the title, the bearer scheme and the shared schemas. */
const documentation = {
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
        required: ["runId", "workflowId", "version", "status", "steps"],
        properties: {
          runId: { type: "string" },
          workflowId: { type: "string" },
          version: { type: "integer" },
          status: { enum: [...runStatuses] },
          error: {},
          deleteAfter: {
            type: ["integer", "null"],
            description: "when retention deletes the run (epoch ms); null while it runs or is held",
          },
          heldAt: { type: ["integer", "null"], description: "when a hold was put on the run" },
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
};

/**
 * Every route that needs a token may also be refused for the role: 403 `auth.forbidden`, its
 * details naming the permission (docs/security.md has the table).
 */
function withForbidden(paths: Paths): Paths {
  for (const [path, operations] of Object.entries(paths)) {
    // Hooks and approval links are not behind roles: their 401s are signatures and link tokens.
    if (!path.startsWith("/api/")) continue;
    for (const operation of Object.values(operations)) {
      const responses = operation?.responses;
      if (responses && "401" in responses && !("403" in responses)) {
        responses["403"] = { description: "error", ...json(errorSchema) };
      }
    }
  }
  return paths;
}

/**
 * The API as OpenAPI 3.1, collected from the specs each route declares next to itself
 * (`spec(...)` in src/routes/*.ts): a route is in the document exactly when the app serves it.
 * The dashboard's pages and the bench-only routes are not part of the API and declare none.
 */
export async function buildOpenApiDocument(app: Hono<{ Bindings: Env }>) {
  // biome-ignore lint/suspicious/noExplicitAny: the library's document options type OpenAPI 3.0 shapes; ours is 3.1.
  const document = await generateSpecs(app, { documentation: documentation as any, excludeStaticFile: false });
  return { ...document, paths: withForbidden(document.paths as Paths) };
}
