import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { fail } from "../errors";
import { parseEventMessage, publishEvent, publishedEvent } from "../triggers/events";
import { allow } from "./auth";
import { answer, errors, spec } from "./openapi-spec";
import { limitBody, readJson } from "./request";
import { published } from "./run-bodies";

export const eventRoutes = new Hono<{ Bindings: Env }>();

/**
 * Publishes a named event to every workflow subscribed to it: `202 {eventId, runs}` with one
 * entry per subscriber (`queued`, `duplicate`, `filtered` or `rejected` with its error). The
 * same id published again inside a workflow's dedup window starts no second run there.
 */
eventRoutes.post(
  "/",
  spec({
    summary: "Publish a named event to every subscribed workflow; the id dedups",
    body: z.object({
      name: z.string(),
      id: z.string().optional(),
      payload: z.unknown().optional(),
      source: z.string().optional(),
    }),
    responses: {
      "202": answer("{eventId, name, runs: [{workflowId, status, runId?, error?}]}", published),
      ...errors(400, 401, 413),
    },
  }),
  allow("events.publish", { filtered: true }),
  limitBody,
  async (c) => {
    const parsed = parseEventMessage(await readJson(c));
    if (!parsed.ok) fail("event.invalid", parsed.message);
    const event = publishedEvent(parsed.event, Date.now());
    const runs = await publishEvent(c.env, event, c.get("principal").workflows);
    return c.json({ eventId: event.id, name: event.name, runs }, 202);
  },
);
