import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { listDeadLetters } from "../store/operations";
import { decodeCursor, encodeCursor } from "../store/runs";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { answer, errors, limitParam, parseBody, queryParam, spec } from "./openapi-spec";
import { limitBody, listLimit, readJson } from "./request";
import { retryRun } from "./run-actions";
import { deadLetterPage, retried, retryBody } from "./run-bodies";
import { checkRunId } from "./runs";

/**
 * Dead letters: failed runs, with the steps that used up their attempts (and escalation). They
 * stay listed until requeued (a retry from the failed steps) or retried some other way.
 */
export const deadLetterRoutes = new Hono<{ Bindings: Env }>();

deadLetterRoutes.get(
  "/",
  spec({
    summary: "Failed runs with the steps that exhausted their attempts and escalation; count",
    parameters: [queryParam("workflow"), queryParam("cursor"), limitParam],
    responses: { "200": answer("{count, deadLetters, nextCursor}", deadLetterPage), ...errors(400, 401) },
  }),
  allow("runs.read"),
  async (c) => {
    const { workflow, cursor: cursorParam } = c.req.query();
    const limit = listLimit(c);
    const cursor = cursorParam === undefined ? undefined : decodeCursor(cursorParam);
    if (cursorParam !== undefined && !cursor) fail("request.invalid", "cursor is not one this API returned");
    const page = await listDeadLetters(c.env.DB, {
      limit,
      ...(workflow ? { workflowId: workflow } : {}),
      ...(cursor ? { before: { at: cursor.createdAt, id: cursor.id } } : {}),
    });
    return c.json({
      count: page.count,
      deadLetters: page.deadLetters,
      nextCursor: page.next ? encodeCursor(page.next.at, page.next.id) : null,
    });
  },
);

/** Requeue: retry the run from its failed steps, on its own version or `{version: "latest" | N}`. */
deadLetterRoutes.post(
  "/:runId/requeue",
  spec({
    summary: "Requeue a dead letter: retry it from its failed steps",
    bodyOptional: true,
    body: retryBody,
    responses: { "200": answer("retried", retried), ...errors(400, 401, 404, 409) },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const { version } = parseBody(retryBody, await readJson(c, { allowEmpty: true }));
    const result = await retryRun(c.env, runId, version == null ? {} : { version }, { operation: "requeue" });
    if (!result.ok) return errorResponse(c, result.error);
    return c.json({ runId, ...result.value });
  },
);
