import { Hono } from "hono";
import type { Env } from "../env";
import { database } from "../store/db";
import { listOutbox } from "../store/outbox";
import { allow } from "./auth";
import { answer, errors, limitParam, queryParam, spec } from "./openapi-spec";
import { listLimit } from "./request";
import { outboxPage } from "./run-bodies";

/**
 * `GET /api/outbox`: every email the engine sent or tried, newest first. Locally (the default
 * `outbox` adapter) this is where approval links are read: nothing leaves the machine.
 */
export const outboxRoutes = new Hono<{ Bindings: Env }>();

outboxRoutes.get(
  "/",
  spec({
    summary: "Emails sent or attempted, newest first (with the outbox adapter, their approval links)",
    parameters: [queryParam("run"), queryParam("to"), limitParam],
    responses: { "200": answer("messages", outboxPage), ...errors(400, 401) },
  }),
  allow("outbox.read"),
  async (c) => {
    const { run, to } = c.req.query();
    const limit = listLimit(c);
    const rows = await listOutbox(database(c.env.DB), { runId: run, to, limit });
    return c.json({
      messages: rows.map((row) => ({
        id: row.id,
        runId: row.runId,
        nodeId: row.nodeId,
        purpose: row.purpose,
        from: row.from,
        to: row.to,
        subject: row.subject,
        links: JSON.parse(row.links) as string[],
        text: row.text,
        html: row.html,
        adapter: row.adapter,
        status: row.status,
        attempts: row.attempts,
        error: row.error,
        createdAt: row.createdAt,
        sentAt: row.sentAt,
      })),
    });
  },
);
