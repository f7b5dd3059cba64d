import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { fail, isErrorData } from "../errors";
import { isRunId } from "../lib/ids";
import type { Json } from "../lib/json";
import { eventName } from "../nodes/wait";
import { humanLoopStub } from "../run/human-loop-api";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { answer, errors, parseBody, spec } from "./openapi-spec";
import { limitBody, readJson } from "./request";

/**
 * `POST /api/runs/:runId/events/:name {payload?, id?}`: delivers an event to a run. A step
 * waiting for it (name and match) takes it at once; otherwise the run buffers it until a wait
 * for it comes. Redelivering an id answers `duplicate` and changes nothing.
 */
export const runEventRoutes = new Hono<{ Bindings: Env }>();

const deliveryId = "id must be a non-empty string of at most 200 characters";

const deliveryBody = z.object(
  {
    payload: z.unknown().optional(),
    id: z
      .string({ error: deliveryId })
      .min(1, { error: deliveryId })
      .max(200, { error: deliveryId })
      .optional()
      .describe("dedups deliveries"),
  },
  { error: "expected a JSON object {payload?, id?}" },
);

runEventRoutes.post(
  "/:runId/events/:name",
  spec({
    summary: "Deliver an event to a run: a waiting step takes it, or it is buffered until one waits",
    bodyOptional: true,
    body: deliveryBody,
    responses: {
      "202": answer("consumed by a waiting step, or buffered"),
      "200": answer("duplicate: an event with this id was delivered before"),
      ...errors(400, 401, 404, 409, 413),
    },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = c.req.param("runId");
    const name = c.req.param("name");
    if (!isRunId(runId)) fail("run.not_found", `no run ${runId}`);
    if (!eventName.safeParse(name).success) {
      fail("event.invalid", "event names are letters, digits, '.', '_', ':' or '-', at most 100");
    }
    const { payload = null, id } = parseBody(deliveryBody, await readJson(c, { allowEmpty: true }), "event.invalid");
    const result = await humanLoopStub(c.env, runId).deliverEvent({
      name,
      payload: payload as Json,
      receivedAt: Date.now(),
      ...(id === undefined ? {} : { id }),
    });
    if (!result) fail("run.not_found", `no run ${runId}`);
    if ("error" in result && isErrorData(result.error)) return errorResponse(c, result.error);
    return c.json({ runId, name, ...result }, "status" in result && result.status === "duplicate" ? 200 : 202);
  },
);
