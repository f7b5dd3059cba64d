import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { database } from "../store/db";
import { listRejections } from "../store/email";
import { allow } from "./auth";
import { answer, errors, limitParam, queryParam, spec } from "./openapi-spec";
import { listLimit } from "./request";

/**
 * `GET /api/email/rejections`: messages the email trigger refused, newest first, with the code
 * and the reason the sending server was given. `cursor` is the last id of the previous page.
 */
export const emailRoutes = new Hono<{ Bindings: Env }>();

emailRoutes.get(
  "/rejections",
  spec({
    summary:
      "Messages the email trigger refused, newest first: {rejections: [{id, receivedAt, from, to, messageId, workflowId, code, reason, size}], cursor}",
    parameters: [queryParam("workflow"), queryParam("cursor"), limitParam],
    responses: { "200": answer("rejections"), ...errors(400, 401) },
  }),
  allow("runs.read"),
  async (c) => {
    const { workflow, cursor } = c.req.query();
    if (cursor !== undefined && !/^rej_[0-9a-z]{26}$/.test(cursor)) {
      fail("request.invalid", "cursor is not one this API returned");
    }
    const limit = listLimit(c);
    const rows = await listRejections(database(c.env.DB), { workflowId: workflow, before: cursor, limit });
    const last = rows.at(-1);
    return c.json({ rejections: rows, cursor: rows.length === limit && last ? last.id : null });
  },
);
