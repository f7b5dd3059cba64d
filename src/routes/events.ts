import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { parseEventMessage, publishEvent, publishedEvent } from "../triggers/events";
import { allow } from "./auth";
import { limitBody, readJson } from "./request";

export const eventRoutes = new Hono<{ Bindings: Env }>();

/**
 * Publishes a named event to every workflow subscribed to it: `202 {eventId, runs}` with one
 * entry per subscriber (`queued`, `duplicate`, `filtered` or `rejected` with its error). The
 * same id published again inside a workflow's dedup window starts no second run there.
 */
eventRoutes.post("/", allow("events.publish", { filtered: true }), limitBody, async (c) => {
  const parsed = parseEventMessage(await readJson(c));
  if (!parsed.ok) fail("event.invalid", parsed.message);
  const event = publishedEvent(parsed.event, Date.now());
  const runs = await publishEvent(c.env, event, c.get("principal").workflows);
  return c.json({ eventId: event.id, name: event.name, runs }, 202);
});
