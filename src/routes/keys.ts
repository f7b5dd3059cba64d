import { Hono } from "hono";
import { z } from "zod";
import { newApiKey } from "../auth/api-key";
import { isRole, roles } from "../auth/roles";
import type { Env } from "../env";
import { fail } from "../errors";
import { parseDuration } from "../lib/duration";
import type { Json } from "../lib/json";
import { findApiKey, insertApiKey, keyView, listApiKeys, revokeApiKey } from "../store/api-keys";
import { database } from "../store/db";
import { allow } from "./auth";
import { answer, errors, spec } from "./openapi-spec";
import { isObject, limitBody, readJson } from "./request";

/** API keys: made by an admin, shown once, listed without secrets, revoked by id. */
export const keyRoutes = new Hono<{ Bindings: Env }>();

const maxWorkflows = 100;
const maxLifetimeMs = 3650 * 86_400_000;

/** Described for the document; checked field by field below, each with its own code and field. */
const keyRequest = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(roles),
  workflows: z
    .array(z.string().min(1))
    .min(1)
    .max(maxWorkflows)
    .optional()
    .describe("limit the key to these workflows"),
  expiresIn: z.string().optional().describe("a duration such as 30d, at most 3650d; absent: never"),
});

const keyAnswer = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  workflows: z.array(z.string()).nullable(),
  createdAt: z.number().int(),
  expiresAt: z.number().int().nullable(),
  lastUsedAt: z.number().int().nullable(),
  revokedAt: z.number().int().nullable(),
});

function invalid(field: string, message: string): never {
  fail("key.invalid", message, { details: { field } });
}

interface KeyRequest {
  name: string;
  role: (typeof roles)[number];
  workflows: string[] | null;
  expiresInMs: number | null;
}

function parseKeyRequest(body: Json): KeyRequest {
  if (!isObject(body)) fail("request.invalid", "expected a JSON object {name, role, workflows?, expiresIn?}");
  const { name, role, workflows, expiresIn } = body;
  if (typeof name !== "string" || name.trim() === "" || name.length > 100) {
    invalid("name", "name must be a non-empty string of at most 100 characters");
  }
  if (!isRole(role)) invalid("role", `role must be one of ${roles.join(", ")}`);
  let list: string[] | null = null;
  if (workflows !== undefined && workflows !== null) {
    if (
      !Array.isArray(workflows) ||
      workflows.length === 0 ||
      workflows.length > maxWorkflows ||
      !workflows.every((id) => typeof id === "string" && id !== "")
    ) {
      invalid("workflows", `workflows must be a list of 1 to ${maxWorkflows} workflow ids`);
    }
    list = [...new Set(workflows as string[])];
  }
  if (role === "trigger" && list === null) {
    invalid("workflows", "a trigger key must list the workflows it may start");
  }
  // An admin manages keys, and so could make itself an unlimited one: a limit would be a fiction.
  if (role === "admin" && list !== null) invalid("workflows", "an admin key covers every workflow; drop workflows");
  let expiresInMs: number | null = null;
  if (expiresIn !== undefined && expiresIn !== null) {
    const ms = typeof expiresIn === "string" ? parseDuration(expiresIn) : undefined;
    if (ms === undefined || ms <= 0 || ms > maxLifetimeMs) {
      invalid("expiresIn", "expiresIn must be a duration such as 30d, 12h or 90m, at most 3650d");
    }
    expiresInMs = ms;
  }
  return { name: name.trim(), role, workflows: list, expiresInMs };
}

/** `201 {id, key, ...}`: the only time the key itself is shown. */
keyRoutes.post(
  "/",
  spec({
    summary: "Make an API key; the answer holds the key itself, shown this once (admin)",
    body: keyRequest,
    responses: {
      "201": answer("the key, with its secret", keyAnswer.extend({ key: z.string() })),
      ...errors(400, 401, 403, 413, 422),
    },
  }),
  allow("keys.manage"),
  limitBody,
  async (c) => {
    const request = parseKeyRequest(await readJson(c));
    const now = Date.now();
    const made = await newApiKey(now);
    const row = {
      id: made.id,
      name: request.name,
      role: request.role,
      workflows: request.workflows === null ? null : JSON.stringify(request.workflows),
      secretHash: made.secretHash,
      createdAt: now,
      expiresAt: request.expiresInMs === null ? null : now + request.expiresInMs,
      lastUsedAt: null,
      revokedAt: null,
    };
    await insertApiKey(database(c.env.DB), row);
    return c.json({ ...keyView(row), key: made.key }, 201);
  },
);

keyRoutes.get(
  "/",
  spec({
    summary: "List API keys without their secrets (admin)",
    responses: { "200": answer("keys", z.object({ keys: z.array(keyAnswer) })), ...errors(401, 403) },
  }),
  allow("keys.manage"),
  async (c) => {
    const rows = await listApiKeys(database(c.env.DB));
    return c.json({ keys: rows.map(keyView) });
  },
);

keyRoutes.get(
  "/:id",
  spec({
    summary: "One API key, without its secret (admin)",
    responses: { "200": answer("the key", keyAnswer), ...errors(401, 403, 404) },
  }),
  allow("keys.manage"),
  async (c) => {
    const row = await findApiKey(database(c.env.DB), c.req.param("id"));
    if (!row) fail("key.not_found", `no API key ${c.req.param("id")}`);
    return c.json(keyView(row));
  },
);

/** Revoking is immediate: every request reads the key's row, so the next one is refused. */
keyRoutes.delete(
  "/:id",
  spec({
    summary: "Revoke an API key: refused from the next request on (admin)",
    responses: { "200": answer("revoked", keyAnswer.extend({ revoked: z.literal(true) })), ...errors(401, 403, 404) },
  }),
  allow("keys.manage"),
  async (c) => {
    const row = await revokeApiKey(database(c.env.DB), c.req.param("id"), Date.now());
    if (!row) fail("key.not_found", `no API key ${c.req.param("id")}`);
    return c.json({ ...keyView(row), revoked: true });
  },
);
