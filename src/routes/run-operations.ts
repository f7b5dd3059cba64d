import { Hono } from "hono";
import { reservedContextKeys } from "../definition/schema";
import type { Env } from "../env";
import { fail, isErrorData } from "../errors";
import type { Json, JsonObject } from "../lib/json";
import { diffJson } from "../lib/json-diff";
import { database } from "../store/db";
import { operationsOf } from "../store/operations";
import { runStub } from "../triggers/start-run";
import { allow } from "./auth";
import { bulkAction } from "./bulk";
import { errorResponse } from "./http-errors";
import { isObject, limitBody, queryInteger, readJson } from "./request";
import { type ActionResult, cancelRun, pauseRun, replayRun, resumeRun, retryRun } from "./run-actions";
import { checkRunId } from "./runs";

/** Retry, replay, pause, resume, cancel, context diffs and the audit trail of one run; bulk actions. */
export const runOperationRoutes = new Hono<{ Bindings: Env }>();

function answer<T extends object>(c: Parameters<typeof errorResponse>[0], runId: string, result: ActionResult<T>) {
  if (!result.ok) return errorResponse(c, result.error);
  return c.json({ runId, ...result.value });
}

/** `version`: "latest", a version number, or absent (the run's own version). */
export function retryVersion(body: Record<string, Json>): "latest" | number | undefined {
  const { version } = body;
  if (version === undefined || version === null) return undefined;
  if (version === "latest") return "latest";
  if (typeof version === "number" && Number.isInteger(version) && version >= 1) return version;
  fail("request.invalid", 'version must be "latest" or a version number');
}

runOperationRoutes.post("/bulk", allow("runs.act"), limitBody, async (c) =>
  c.json(await bulkAction(c.env, await readJson(c))),
);

runOperationRoutes.post("/:runId/retry", allow("runs.act", { run: "runId" }), limitBody, async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const body = await readJson(c, { allowEmpty: true });
  if (!isObject(body)) fail("request.invalid", 'expected a JSON object {version?: "latest" | number}');
  const version = retryVersion(body);
  return answer(c, runId, await retryRun(c.env, runId, version === undefined ? {} : { version }));
});

runOperationRoutes.post("/:runId/replay", allow("runs.act", { run: "runId" }), limitBody, async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const body = await readJson(c);
  if (!isObject(body) || typeof body.fromNode !== "string" || body.fromNode === "") {
    fail("request.invalid", "expected a JSON object {fromNode, context?}");
  }
  const context = body.context;
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
});

runOperationRoutes.post("/:runId/pause", allow("runs.act", { run: "runId" }), limitBody, async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const body = await readJson(c, { allowEmpty: true });
  if (!isObject(body)) fail("request.invalid", "expected a JSON object {reason?}");
  const { reason } = body;
  if (reason !== undefined && (typeof reason !== "string" || reason.length > 500)) {
    fail("request.invalid", "reason must be a string of at most 500 characters");
  }
  return answer(c, runId, await pauseRun(c.env, runId, reason ? { reason } : {}));
});

runOperationRoutes.post("/:runId/resume", allow("runs.act", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  return answer(c, runId, await resumeRun(c.env, runId));
});

// Through cancelRun, as a bulk cancel goes, so the run's operations record it the same way.
runOperationRoutes.post("/:runId/cancel", allow("runs.act", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  return answer(c, runId, await cancelRun(c.env, runId));
});

/** What changed between two context versions, as JSON Pointer changes; `to` defaults to the latest, `from` to the one before. */
runOperationRoutes.get("/:runId/context/diff", allow("runs.read", { run: "runId" }), async (c) => {
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
  return c.json({ runId, from: before.version, to: after.version, changes: diffJson(before.context, after.context) });
});

runOperationRoutes.get("/:runId/operations", allow("runs.read", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  return c.json({ runId, operations: await operationsOf(database(c.env.DB), runId) });
});
