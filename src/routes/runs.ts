import { Hono } from "hono";
import { z } from "zod";
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
import { answer, errors, inlineParam, limitParam, queryParam, revealParam, spec } from "./openapi-spec";
import { listLimit, queryInteger } from "./request";
import { runList } from "./run-bodies";
import { sensitiveAnswer } from "./sensitive-answers";

export const runRoutes = new Hono<{ Bindings: Env }>();

/** Ids that cannot be a run never reach (and so never create) a Durable Object. */
export function checkRunId(runId: string): string {
  if (!isRunId(runId)) fail("run.not_found", `no run ${runId}`);
  return runId;
}

runRoutes.get(
  "/",
  spec({
    summary: "List runs, newest first",
    parameters: [
      queryParam("workflow"),
      queryParam("status", { enum: [...runStatuses] }),
      queryParam("parent", { type: "string" }, "only the child runs of this run"),
      queryParam("cursor", { type: "string" }, "the nextCursor of the page before"),
      limitParam,
    ],
    responses: { "200": answer("runs and nextCursor", runList), ...errors(400, 401) },
  }),
  allow("runs.read", { filtered: true }),
  async (c) => {
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
  },
);

/** `?inline=true` resolves large context values (stored in R2) instead of returning references. */
function inlineQuery(value: string | undefined): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true" || value === "") return true;
  fail("request.invalid", "inline must be true or false");
}

runRoutes.get(
  "/:runId",
  spec({
    summary: "Execution report (large context values as references unless inline=true), with its retention",
    parameters: [inlineParam, revealParam],
    responses: {
      "200": answer("report", { $ref: "#/components/schemas/ExecutionReport" }),
      ...errors(400, 401, 403, 404, 503),
    },
  }),
  allow("runs.read", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const [report, retention] = await Promise.all([
      runStub(c.env, runId).report({ inline: inlineQuery(c.req.query("inline")) }),
      retentionOf(c.env.DB, runId),
    ]);
    if (!report) fail("run.not_found", `no run ${runId}`);
    // Retention as D1 holds it: a moment after the run ends, its checkpoint brings deleteAfter.
    const answer = { ...report, deleteAfter: retention?.deleteAfter ?? null, heldAt: retention?.heldAt ?? null };
    return c.json(await sensitiveAnswer(c, runId, answer));
  },
);

runRoutes.get(
  "/:runId/context",
  spec({
    summary: "Context at a version, with its hash (large values as references unless inline=true)",
    parameters: [queryParam("version", { type: "integer", minimum: 0 }), inlineParam, revealParam],
    responses: { "200": answer("version, hash and context"), ...errors(400, 401, 403, 404, 503) },
  }),
  allow("runs.read", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const version = queryInteger(c, "version", { min: 0 });
    const result = await runStub(c.env, runId).contextAt(version, { inline: inlineQuery(c.req.query("inline")) });
    if (!result) fail("run.not_found", `no run ${runId}`);
    if ("error" in result && isErrorData(result.error)) return errorResponse(c, result.error);
    return c.json(await sensitiveAnswer(c, runId, { runId, ...result }));
  },
);

/** What a hold or its lifting answers: the run's retention as it now stands. */
const holdAnswer = z.object({
  runId: z.string(),
  held: z.boolean(),
  heldAt: z.number().int().nullable(),
  deleteAfter: z.number().int().nullable(),
});

/** A hold keeps the run whatever its retention says, until it is lifted. */
runRoutes.post(
  "/:runId/hold",
  spec({
    summary: "Keep the run whatever its retention says, until the hold is lifted",
    responses: { "200": answer("{runId, held, heldAt, deleteAfter: null}", holdAnswer), ...errors(400, 401, 404) },
  }),
  allow("runs.act", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    if (!(await setHold(c.env.DB, runId, Date.now()))) fail("run.not_found", `no run ${runId}`);
    const retention = await retentionOf(c.env.DB, runId);
    return c.json({ runId, held: true, heldAt: retention?.heldAt ?? null, deleteAfter: null });
  },
);

/** Lifting the hold: the run is deleted at its time again (at the next tick, if that has passed). */
runRoutes.delete(
  "/:runId/hold",
  spec({
    summary: "Lift the hold: the run is deleted at its deleteAfter again",
    responses: { "200": answer("{runId, held, heldAt, deleteAfter}", holdAnswer), ...errors(400, 401, 404) },
  }),
  allow("runs.act", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    if (!(await setHold(c.env.DB, runId, null))) fail("run.not_found", `no run ${runId}`);
    const retention = await retentionOf(c.env.DB, runId);
    return c.json({ runId, held: false, heldAt: null, deleteAfter: retention?.deleteAfter ?? null });
  },
);

/** Deletes an ended run: its blobs, its object's storage and its D1 rows. Later reads are 404. */
runRoutes.delete(
  "/:runId",
  spec({
    summary: "Delete an ended run and its child runs: their R2 blobs, objects' storage and D1 rows",
    responses: { "200": answer("what was removed"), ...errors(401, 404, 409) },
  }),
  allow("runs.delete", { run: "runId" }),
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const result = await deleteRun(c.env, runId);
    if ("error" in result) return errorResponse(c, result.error);
    return c.json(result);
  },
);
