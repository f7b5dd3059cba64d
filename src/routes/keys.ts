import { Hono } from "hono";
import { newApiKey } from "../auth/api-key";
import { isRole, roles } from "../auth/roles";
import type { Env } from "../env";
import { fail } from "../errors";
import { parseDuration } from "../lib/duration";
import type { Json } from "../lib/json";
import { findApiKey, insertApiKey, keyView, listApiKeys, revokeApiKey } from "../store/api-keys";
import { database } from "../store/db";
import { allow } from "./auth";
import { isObject, limitBody, readJson } from "./request";

/** API keys: made by an admin, shown once, listed without secrets, revoked by id. */
export const keyRoutes = new Hono<{ Bindings: Env }>();

const maxWorkflows = 100;
const maxLifetimeMs = 3650 * 86_400_000;

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
keyRoutes.post("/", allow("keys.manage"), limitBody, async (c) => {
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
});

keyRoutes.get("/", allow("keys.manage"), async (c) => {
  const rows = await listApiKeys(database(c.env.DB));
  return c.json({ keys: rows.map(keyView) });
});

keyRoutes.get("/:id", allow("keys.manage"), async (c) => {
  const row = await findApiKey(database(c.env.DB), c.req.param("id"));
  if (!row) fail("key.not_found", `no API key ${c.req.param("id")}`);
  return c.json(keyView(row));
});

/** Revoking is immediate: every request reads the key's row, so the next one is refused. */
keyRoutes.delete("/:id", allow("keys.manage"), async (c) => {
  const row = await revokeApiKey(database(c.env.DB), c.req.param("id"), Date.now());
  if (!row) fail("key.not_found", `no API key ${c.req.param("id")}`);
  return c.json({ ...keyView(row), revoked: true });
});
