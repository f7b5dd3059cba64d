import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/routes/app";
import { declaredPermission } from "../../src/routes/auth";
import { asKey, makeKey } from "./access-support";
import { register } from "./helpers";
import { expectError } from "./support";

type Role = "viewer" | "operator" | "trigger" | "admin";

const noRun = "run_0000000000aaaaaaaaaaaaaaaa";
const definition = (id: string) => ({
  id,
  name: id,
  triggers: [{ type: "manual" }],
  nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
  edges: [],
});

/**
 * The roles table of docs/security.md, written out by hand: which roles may call each route.
 * Calls aimed at things that do not exist keep the allowed ones harmless (they answer 404).
 */
const table: { call: string; json?: unknown; permission: string; allowed: Role[] }[] = [
  { call: "GET /api/openapi.json", permission: "api.read", allowed: ["viewer", "operator", "trigger", "admin"] },
  { call: "GET /api/workflows", permission: "workflows.read", allowed: ["viewer", "operator", "admin"] },
  { call: "GET /api/workflows/roles-wf", permission: "workflows.read", allowed: ["viewer", "operator", "admin"] },
  {
    call: "GET /api/workflows/roles-wf/schedule",
    permission: "workflows.read",
    allowed: ["viewer", "operator", "admin"],
  },
  { call: "POST /api/workflows", json: definition("roles-new"), permission: "workflows.write", allowed: ["admin"] },
  { call: "POST /api/workflows/roles-none/disable", permission: "workflows.write", allowed: ["admin"] },
  { call: "POST /api/workflows/roles-none/enable", permission: "workflows.write", allowed: ["admin"] },
  { call: "DELETE /api/workflows/roles-none", permission: "workflows.write", allowed: ["admin"] },
  { call: "POST /api/workflows/roles-wf/test", json: {}, permission: "workflows.test", allowed: ["operator", "admin"] },
  {
    call: "POST /api/workflows/roles-wf/runs",
    json: { input: {} },
    permission: "runs.start",
    allowed: ["operator", "trigger", "admin"],
  },
  { call: "GET /api/runs", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `GET /api/runs/${noRun}`, permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `GET /api/runs/${noRun}/context`, permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `GET /api/runs/${noRun}/context/diff`, permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `GET /api/runs/${noRun}/operations`, permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `DELETE /api/runs/${noRun}`, permission: "runs.delete", allowed: ["admin"] },
  { call: `POST /api/runs/${noRun}/cancel`, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: `POST /api/runs/${noRun}/retry`, json: {}, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: `POST /api/runs/${noRun}/compensate`, json: {}, permission: "runs.act", allowed: ["operator", "admin"] },
  {
    call: `POST /api/runs/${noRun}/replay`,
    json: { fromNode: "a" },
    permission: "runs.act",
    allowed: ["operator", "admin"],
  },
  { call: `POST /api/runs/${noRun}/pause`, json: {}, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: `POST /api/runs/${noRun}/resume`, permission: "runs.act", allowed: ["operator", "admin"] },
  {
    call: `POST /api/runs/${noRun}/approvals/ask`,
    json: { decision: "approve" },
    permission: "runs.act",
    allowed: ["operator", "admin"],
  },
  { call: `POST /api/runs/${noRun}/events/go`, json: {}, permission: "runs.act", allowed: ["operator", "admin"] },
  {
    call: "POST /api/runs/bulk",
    json: { action: "cancel", filter: { workflow: "roles-none" }, dryRun: true },
    permission: "runs.act",
    allowed: ["operator", "admin"],
  },
  { call: "GET /api/dead-letters", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: `POST /api/dead-letters/${noRun}/requeue`, json: {}, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: "GET /api/metrics", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: "GET /api/limits", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: "GET /api/limits/flaky", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: "GET /api/email/rejections", permission: "runs.read", allowed: ["viewer", "operator", "admin"] },
  { call: "GET /api/outbox", permission: "outbox.read", allowed: ["operator", "admin"] },
  {
    call: "POST /api/events",
    json: { name: "roles.nobody-listens" },
    permission: "events.publish",
    allowed: ["operator", "trigger", "admin"],
  },
  { call: "GET /api/files/roles/none.txt", permission: "files.read", allowed: ["viewer", "operator", "admin"] },
  { call: "PUT /api/files/roles/put.txt", permission: "files.write", allowed: ["operator", "admin"] },
  { call: "GET /api/keys", permission: "keys.manage", allowed: ["admin"] },
  { call: "POST /api/keys", json: { name: "made", role: "viewer" }, permission: "keys.manage", allowed: ["admin"] },
  { call: "GET /api/keys/key_00000000000000000000000000", permission: "keys.manage", allowed: ["admin"] },
  { call: "DELETE /api/keys/key_00000000000000000000000000", permission: "keys.manage", allowed: ["admin"] },
  { call: `POST /api/runs/${noRun}/hold`, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: `DELETE /api/runs/${noRun}/hold`, permission: "runs.act", allowed: ["operator", "admin"] },
  { call: "GET /api/audit", permission: "audit.read", allowed: ["admin"] },
  { call: "GET /api/audit/verify", permission: "audit.read", allowed: ["admin"] },
  // The bench's routes answer 404 past the permission unless BENCH is on (it is not here).
  { call: "POST /api/__bench/seed-runs", json: {}, permission: "workflows.write", allowed: ["admin"] },
  { call: "POST /api/__bench/seed-approvals", json: {}, permission: "workflows.write", allowed: ["admin"] },
  { call: "POST /api/__bench/seed-run", json: {}, permission: "workflows.write", allowed: ["admin"] },
  { call: "GET /api/__bench/plans", permission: "workflows.write", allowed: ["admin"] },
];

describe("roles on every API route", () => {
  const keys: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    await register(definition("roles-wf"));
    for (const role of ["viewer", "operator", "admin"] as const) keys[role] = (await makeKey({ name: role, role })).key;
    // A trigger key must name its workflows; roles-wf is the one the table starts.
    keys.trigger = (await makeKey({ name: "trigger", role: "trigger", workflows: ["roles-wf"] })).key;
  });

  for (const role of ["viewer", "operator", "trigger", "admin"] as const) {
    it(`lets a ${role} key call what its role allows and refuses the rest with the missing permission`, async () => {
      const outcomes: string[] = [];
      for (const row of table) {
        const [method = "GET", path = "/"] = row.call.split(" ");
        const init: RequestInit & { json?: unknown } = { method };
        if (row.json !== undefined) init.json = row.json;
        if (method === "PUT") init.body = "hello";
        const response = await asKey(keys[role] ?? "", path, init);
        if (row.allowed.includes(role)) {
          expect([401, 403], `${role} ${row.call}`).not.toContain(response.status);
          expect(response.status, `${role} ${row.call}`).toBeLessThan(500);
        } else {
          const body = await expectError(response, 403, "auth.forbidden");
          expect(body.error.details, `${role} ${row.call}`).toMatchObject({ permission: row.permission, role });
        }
        outcomes.push(`${row.call} ${response.status}`);
      }
      expect(outcomes).toHaveLength(table.length);
    });
  }

  it("declares a permission on every /api route the app serves, and the table covers each", () => {
    const app = createApp();
    const routes = new Map<string, unknown[]>();
    for (const route of app.routes) {
      if (route.method === "ALL") continue;
      const key = `${route.method} ${route.path}`;
      routes.set(key, [...(routes.get(key) ?? []), route.handler]);
    }
    // Outside /api each door has its own check: the schema is public, hooks verify signatures,
    // approval links are their own secret, the dashboard needs a session.
    const undeclared: string[] = [];
    const apiRoutes: string[] = [];
    for (const [key, handlers] of routes) {
      const path = key.split(" ")[1] ?? "";
      if (!path.startsWith("/api/") || path.startsWith("/api/schema/")) continue;
      apiRoutes.push(key);
      if (!handlers.some((handler) => declaredPermission(handler) !== undefined)) undeclared.push(key);
    }
    expect(undeclared).toEqual([]);
    expect(apiRoutes.length).toBeGreaterThan(30);
    // Every route the app serves is called by the table above, so each role is tried on it.
    const called = table.map((row) => row.call);
    const uncovered = apiRoutes.filter((key) => {
      const [method, path = ""] = key.split(" ");
      const pattern = new RegExp(
        `^${method} ${path
          .replace(/:[A-Za-z]+\{\.\+\}/g, ".+")
          .replace(/:[A-Za-z]+/g, "[^/]+")
          .replace("*", ".+")}$`,
      );
      return !called.some((call) => pattern.test(call));
    });
    expect(uncovered).toEqual([]);
  });
});
