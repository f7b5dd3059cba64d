import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { database } from "../store/db";
import { listOutbox } from "../store/outbox";

/**
 * `GET /api/outbox`: every email the engine sent or tried, newest first. Locally (the default
 * `outbox` adapter) this is where approval links are read: nothing leaves the machine.
 */
export const outboxRoutes = new Hono<{ Bindings: Env }>();

outboxRoutes.get("/", async (c) => {
  const { run, to, limit: limitParam } = c.req.query();
  const limit = limitParam === undefined ? 50 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    fail("request.invalid", "limit must be an integer from 1 to 200");
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
});
