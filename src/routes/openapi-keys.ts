import { errorResponses, idParam, json } from "./openapi-common";

const keyView = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    role: { enum: ["viewer", "operator", "trigger", "admin"] },
    workflows: { oneOf: [{ type: "null" }, { type: "array", items: { type: "string" } }] },
    createdAt: { type: "integer" },
    expiresAt: { type: ["integer", "null"] },
    lastUsedAt: { type: ["integer", "null"] },
    revokedAt: { type: ["integer", "null"] },
  },
};

/** `/api/keys`: making, listing and revoking API keys (docs/security.md). */
export const keyPaths = {
  "/api/keys": {
    get: {
      summary: "List API keys without their secrets (admin)",
      responses: {
        "200": json({ type: "object", properties: { keys: { type: "array", items: keyView } } }),
        ...errorResponses(401, 403),
      },
    },
    post: {
      summary: "Make an API key; the answer holds the key itself, shown this once (admin)",
      requestBody: json({
        type: "object",
        required: ["name", "role"],
        properties: {
          name: { type: "string", maxLength: 100 },
          role: { enum: ["viewer", "operator", "trigger", "admin"] },
          workflows: { type: "array", items: { type: "string" }, description: "limit the key to these workflows" },
          expiresIn: { type: "string", description: "a duration such as 30d; absent: never" },
        },
      }),
      responses: {
        "201": json({ ...keyView, properties: { ...keyView.properties, key: { type: "string" } } }),
        ...errorResponses(400, 401, 403, 413, 422),
      },
    },
  },
  "/api/keys/{id}": {
    get: {
      summary: "One API key, without its secret (admin)",
      parameters: [idParam("id")],
      responses: { "200": json(keyView), ...errorResponses(401, 403, 404) },
    },
    delete: {
      summary: "Revoke an API key: refused from the next request on (admin)",
      parameters: [idParam("id")],
      responses: {
        "200": json({ ...keyView, properties: { ...keyView.properties, revoked: { const: true } } }),
        ...errorResponses(401, 403, 404),
      },
    },
  },
};
