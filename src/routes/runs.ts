import { Hono } from "hono";
import { runStatuses } from "../engine/state";
import type { Env } from "../env";
import { fail, isErrorData } from "../errors";
import { isRunId } from "../lib/ids";
import { deleteRun } from "../run/delete-run";
import { database } from "../store/db";
import { retentionOf, setHold } from "../store/run-deletion";
import { decodeCursor, listRuns } from "../store/runs";
import { runStub } from "../triggers/start-run";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { listLimit, queryInteger } from "./request";

export const runRoutes = new Hono<{ Bindings: Env }>();

/** Ids that cannot be a run never reach (and so never create) a Durable Object. */
export function checkRunId(runId: string): string {
  if (!isRunId(runId)) fail("run.not_found", `no run ${runId}`);
  return runId;
}

runRoutes.get("/", allow("runs.read", { filtered: true }), async (c) => {
  const { workflow, status, parent, cursor: cursorParam } = c.req.query();
  const limit = listLimit(c);
  if (status !== undefined && !(runStatuses as readonly string[]).includes(status)) {
    fail("request.invalid", `status must be one of ${runStatuses.join(", ")}`);
  }
  const cursor = cursorParam === undefined ? undefined : decodeCursor(cursorParam);
  if (cursorParam !== undefined && !cursor) fail("request.invalid", "cursor is not one this API returned");
  const { workflows } = c.get("principal");
  return c.json(
    await listRuns(database(c.env.DB), {
      workflowId: workflow,
      ...(workflows !== null ? { workflowIds: workflows } : {}),
      status,
      parentRunId: parent,
      limit,
      cursor,
    }),
  );
});

/** `?inline=true` resolves large context values (stored in R2) instead of returning references. */
function inlineParam(value: string | undefined): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true" || value === "") return true;
  fail("request.invalid", "inline must be true or false");
}

runRoutes.get("/:runId", allow("runs.read", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const [report, retention] = await Promise.all([
    runStub(c.env, runId).report({ inline: inlineParam(c.req.query("inline")) }),
    retentionOf(c.env.DB, runId),
  ]);
  if (!report) fail("run.not_found", `no run ${runId}`);
  // Retention as D1 holds it: a moment after the run ends, its checkpoint brings deleteAfter.
  return c.json({ ...report, deleteAfter: retention?.deleteAfter ?? null, heldAt: retention?.heldAt ?? null });
});

runRoutes.get("/:runId/context", allow("runs.read", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const version = queryInteger(c, "version", { min: 0 });
  const result = await runStub(c.env, runId).contextAt(version, { inline: inlineParam(c.req.query("inline")) });
  if (!result) fail("run.not_found", `no run ${runId}`);
  if ("error" in result && isErrorData(result.error)) return errorResponse(c, result.error);
  return c.json({ runId, ...result });
});

/** A hold keeps the run whatever its retention says, until it is lifted. */
runRoutes.post("/:runId/hold", allow("runs.act", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  if (!(await setHold(c.env.DB, runId, Date.now()))) fail("run.not_found", `no run ${runId}`);
  const retention = await retentionOf(c.env.DB, runId);
  return c.json({ runId, held: true, heldAt: retention?.heldAt ?? null, deleteAfter: null });
});

/** Lifting the hold: the run is deleted at its time again (at the next tick, if that has passed). */
runRoutes.delete("/:runId/hold", allow("runs.act", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  if (!(await setHold(c.env.DB, runId, null))) fail("run.not_found", `no run ${runId}`);
  const retention = await retentionOf(c.env.DB, runId);
  return c.json({ runId, held: false, heldAt: null, deleteAfter: retention?.deleteAfter ?? null });
});

/** Deletes an ended run: its blobs, its object's storage and its D1 rows. Later reads are 404. */
runRoutes.delete("/:runId", allow("runs.delete", { run: "runId" }), async (c) => {
  const runId = checkRunId(c.req.param("runId"));
  const result = await deleteRun(c.env, runId);
  if ("error" in result) return errorResponse(c, result.error);
  return c.json(result);
});
