import { Hono } from "hono";
import { validateDefinition } from "../definition/validate";
import type { Env } from "../env";
import { errorData, fail } from "../errors";
import { hashJson } from "../lib/hash";
import { database } from "../store/db";
import { getVersion, listVersions, listWorkflows, registerVersion } from "../store/workflows";
import { startRun } from "../triggers/start-run";
import { errorResponse } from "./http-errors";
import { isObject, limitBody, readJson } from "./request";

export const workflowRoutes = new Hono<{ Bindings: Env }>();

workflowRoutes.post("/", limitBody, async (c) => {
  const raw = await readJson(c);
  const result = validateDefinition(raw);
  if (!result.ok) {
    const first = result.issues[0];
    const message = first ? `${first.message} (at ${first.path.join(".") || "/"})` : "invalid definition";
    // The first issue's code leads; every issue, with its path, is in details.
    return errorResponse(
      c,
      errorData(first?.code ?? "definition.invalid", message, { details: { issues: result.issues } }),
    );
  }
  const now = Date.now();
  const hash = await hashJson(result.definition);
  const version = await registerVersion(database(c.env.DB), result.definition, hash, now);
  return c.json({ workflowId: result.definition.id, version, hash, createdAt: now }, 201);
});

workflowRoutes.get("/", async (c) => {
  const rows = await listWorkflows(database(c.env.DB));
  return c.json({
    workflows: rows.map((row) => ({
      workflowId: row.id,
      name: row.name,
      latestVersion: row.latestVersion,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    })),
  });
});

workflowRoutes.get("/:id", async (c) => {
  const workflowId = c.req.param("id");
  const versionParam = c.req.query("version");
  let version: number | undefined;
  if (versionParam !== undefined) {
    version = Number(versionParam);
    if (!Number.isInteger(version) || version < 1) fail("request.invalid", "version must be a positive integer");
  }
  const db = database(c.env.DB);
  const stored = await getVersion(db, workflowId, version);
  if (!stored) {
    if (version !== undefined && (await getVersion(db, workflowId))) {
      fail("workflow.version_not_found", `workflow ${workflowId} has no version ${version}`);
    }
    fail("workflow.not_found", `no workflow ${workflowId}`);
  }
  return c.json({ ...stored, versions: await listVersions(db, workflowId) });
});

workflowRoutes.post("/:id/runs", limitBody, async (c) => {
  const body = await readJson(c, { allowEmpty: true });
  if (!isObject(body)) fail("request.invalid", "expected a JSON object {input, idempotencyKey?}");
  const { input = {}, idempotencyKey } = body;
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== "string" || idempotencyKey.length === 0 || idempotencyKey.length > 200)
  ) {
    fail("request.invalid", "idempotencyKey must be a non-empty string of at most 200 characters");
  }
  const headerKey = c.req.header("idempotency-key");
  const result = await startRun(c.env, {
    workflowId: c.req.param("id"),
    triggerType: "manual",
    input,
    idempotencyKey: (idempotencyKey as string | undefined) ?? headerKey,
    receivedAt: Date.now(),
  });
  return c.json(result, result.status === "duplicate" ? 200 : 202);
});
