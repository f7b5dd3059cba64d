import { errorResponses, json } from "./openapi-common";

const query = (name: string, description: string) => ({
  name,
  in: "query",
  required: false,
  schema: { type: "string" },
  description,
});

const entry = {
  type: "object",
  properties: {
    seq: { type: "integer" },
    at: { type: "integer" },
    actor: {
      type: "object",
      properties: { kind: { type: "string" }, id: { type: ["string", "null"] }, name: { type: ["string", "null"] } },
    },
    action: { type: "string", description: "`<METHOD> <route>`, such as `POST /api/runs/:runId/cancel`" },
    workflowId: { type: ["string", "null"] },
    runId: { type: ["string", "null"] },
    status: { type: "integer" },
    code: { type: ["string", "null"] },
    ip: { type: ["string", "null"] },
    userAgent: { type: ["string", "null"] },
    prevHash: { type: "string" },
    hash: { type: "string" },
  },
};

/** `/api/audit`: the audit trail and its hash chain (docs/security.md#audit-trail). */
export const auditPaths = {
  "/api/audit": {
    get: {
      summary: "Audit entries, newest first, paged by cursor (admin)",
      parameters: [
        query("actor", "a key id, key or token name, Access email or approver"),
        query("action", "`<METHOD> <route>`"),
        query("workflow", "workflow id"),
        query("run", "run id"),
        query("from", "epoch ms or ISO 8601, inclusive"),
        query("to", "epoch ms or ISO 8601, exclusive"),
        query("limit", "1 to 200, default 50"),
        query("cursor", "the previous page's cursor"),
      ],
      responses: {
        "200": json({
          type: "object",
          properties: { entries: { type: "array", items: entry }, cursor: { type: ["string", "null"] } },
        }),
        ...errorResponses(400, 401, 403),
      },
    },
  },
  "/api/audit/verify": {
    get: {
      summary: "Checks the hash chain and names the first entry that does not hold (admin)",
      parameters: [
        query("from", "the seq to start at (checked against the entry before it); default the oldest"),
        query("limit", "entries to check, 1 to 100000 (default 100000)"),
      ],
      responses: {
        "200": json({
          type: "object",
          properties: {
            ok: { type: "boolean" },
            checked: { type: "integer" },
            next: {
              type: ["integer", "null"],
              description: "where to go on with ?from= when the walk stopped at its limit",
            },
            broken: {
              type: "object",
              properties: {
                seq: { type: "integer" },
                reason: { enum: ["hash_mismatch", "prev_hash_mismatch", "gap"] },
                expected: { type: "string" },
                found: { type: "string" },
              },
            },
          },
        }),
        ...errorResponses(400, 401, 403),
      },
    },
  },
};
