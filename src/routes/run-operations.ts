import { Hono } from "hono";
import { reservedContextKeys } from "../definition/schema";
import type { Env } from "../env";
import { fail, isErrorData } from "../errors";
import type { JsonObject } from "../lib/json";
import { diffJson } from "../lib/json-diff";
import { redact } from "../security/seal";
import { database } from "../store/db";
import { operationsOf } from "../store/operations";
import { runStub } from "../triggers/start-run";
import { allow } from "./auth";
import { bulkAction } from "./bulk";
import { errorResponse } from "./http-errors";
import { answer, errors, parseBody, queryParam, spec } from "./openapi-spec";
import { isObject, limitBody, queryInteger, readJson } from "./request";
import { type ActionResult, cancelRun, compensateRun, pauseRun, replayRun, resumeRun, retryRun } from "./run-actions";
import {
  bulkBody,
  compensateBody,
  compensated,
  pauseBody,
  replayBody,
  replayed,
  retried,
  retryBody,
  runAction,
} from "./run-bodies";
import { checkRunId } from "./runs";

/** Retry, replay, pause, resume, cancel, context diffs and the audit trail of one run; bulk actions. */
export const runOperationRoutes = new Hono<{ Bindings: Env }>();

function respond<T extends object>(c: Parameters<typeof errorResponse>[0], runId: string, result: ActionResult<T>) {
  if (!result.ok) return errorResponse(c, result.error);
  return c.json({ runId, ...result.value });
}

runOperationRoutes.post(
  "/bulk",
  spec({
    summary: "Rerun, cancel, pause or resume the runs a filter (or a list of run ids) matches; dryRun lists them first",
    body: bulkBody,
    responses: { "200": answer("the matched runs and, unless dryRun, each outcome"), ...errors(400, 401, 413) },
  }),
  allow("runs.act"),
  limitBody,
  async (c) => c.json(await bulkAction(c.env, await readJson(c))),
);

runOperationRoutes.post(
  "/:runId/retry",
  spec({
    summary: "Retry a failed run from its failed steps; completed steps are kept",
    bodyOptional: true,
    body: retryBody,
    responses: { "200": answer("retried", retried), ...errors(400, 401, 404, 409, 413) },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const { version } = parseBody(retryBody, await readJson(c, { allowEmpty: true }));
    return respond(c, runId, await retryRun(c.env, runId, version == null ? {} : { version }));
  },
);

runOperationRoutes.post(
  "/:runId/compensate",
  spec({
    summary: "Roll back an ended run: undo its completed steps through their compensate, last first; dryRun lists them",
    bodyOptional: true,
    body: compensateBody,
    responses: {
      "200": answer("the steps undone (or to undo), group by group", compensated),
      ...errors(400, 401, 404, 409, 413),
    },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const { dryRun, reason } = parseBody(compensateBody, await readJson(c, { allowEmpty: true }));
    return respond(
      c,
      runId,
      await compensateRun(c.env, runId, { ...(dryRun ? { dryRun } : {}), ...(reason ? { reason } : {}) }),
    );
  },
);

runOperationRoutes.post(
  "/:runId/replay",
  spec({
    summary: "Replay an ended run from a node, as a new linked run; steps before it are taken from the original",
    body: replayBody,
    responses: { "202": answer("the new run", replayed), ...errors(400, 401, 404, 409, 413, 422) },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const raw = await readJson(c);
    // context is checked apart: a context that is not an object is the run's code, not the request's.
    const body = parseBody(replayBody.omit({ context: true }), raw);
    const context = isObject(raw) ? raw.context : undefined;
    if (context !== undefined && !isObject(context)) {
      fail("run.context_invalid", "context must be an object of top-level keys to replace");
    }
    const reserved = Object.keys(context ?? {}).filter((key) => key === "run" || key === "trigger");
    if (reserved.length > 0) {
      fail("run.context_invalid", `a replay cannot edit ${reserved.join(", ")}: the run owns them`, {
        details: { reserved: reservedContextKeys },
      });
    }
    const result = await replayRun(c.env, runId, {
      fromNode: body.fromNode,
      ...(context ? { context: context as JsonObject } : {}),
    });
    if (!result.ok) return errorResponse(c, result.error);
    return c.json(result.value, 202);
  },
);

runOperationRoutes.post(
  "/:runId/pause",
  spec({
    summary: "Pause: no node starts, timers that come due are held",
    bodyOptional: true,
    body: pauseBody,
    responses: { "200": answer("{runId, status, pausedAt}", runAction), ...errors(400, 401, 404, 409, 413) },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const { reason } = parseBody(pauseBody, await readJson(c, { allowEmpty: true }));
    return respond(c, runId, await pauseRun(c.env, runId, reason ? { reason } : {}));
  },
);

runOperationRoutes.post(
  "/:runId/resume",
  spec({
    summary: "Resume a paused run: held timers fire, ready nodes start",
    responses: { "200": answer("{runId, status, released}", runAction), ...errors(401, 404, 409) },
  }),
  allow("runs.act", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    return respond(c, runId, await resumeRun(c.env, runId));
  },
);

// Through cancelRun, as a bulk cancel goes, so the run's operations record it the same way.
runOperationRoutes.post(
  "/:runId/cancel",
  spec({
    summary: "Cancel an active run",
    responses: { "200": answer("cancelled", runAction), ...errors(401, 404, 409) },
  }),
  allow("runs.act", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    return respond(c, runId, await cancelRun(c.env, runId));
  },
);

/** What changed between two context versions, as JSON Pointer changes; `to` defaults to the latest, `from` to the one before. */
runOperationRoutes.get(
  "/:runId/context/diff",
  spec({
    summary: "Changes between two context versions, as JSON Pointer changes",
    parameters: [
      queryParam("from", { type: "integer", minimum: 0 }),
      queryParam("to", { type: "integer", minimum: 0 }),
    ],
    responses: { "200": answer("{runId, from, to, changes}"), ...errors(400, 401, 404) },
  }),
  allow("runs.read", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const to = queryInteger(c, "to", { min: 0 });
    const from = queryInteger(c, "from", { min: 0 });
    const stub = runStub(c.env, runId);
    const target = await stub.contextAt(to);
    if (!target) fail("run.not_found", `no run ${runId}`);
    if ("error" in target && isErrorData(target.error)) return errorResponse(c, target.error);
    const after = target as { version: number; context: JsonObject };
    const source = await stub.contextAt(from ?? Math.max(0, after.version - 1));
    if (!source) fail("run.not_found", `no run ${runId}`);
    if ("error" in source && isErrorData(source.error)) return errorResponse(c, source.error);
    const before = source as { version: number; context: JsonObject };
    // Sensitive values compare redacted: a diff shows no sealed value, and no change of one.
    const changes = diffJson(redact(before.context), redact(after.context));
    return c.json({ runId, from: before.version, to: after.version, changes });
  },
);

runOperationRoutes.get(
  "/:runId/operations",
  spec({
    summary: "What operators did to the run (and replays made from it), newest first",
    responses: { "200": answer("{runId, operations}"), ...errors(401, 404) },
  }),
  allow("runs.read", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    return c.json({ runId, operations: await operationsOf(database(c.env.DB), runId) });
  },
);
