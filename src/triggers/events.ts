import { eventNameSchema } from "../definition/schema";
import type { Env } from "../env";
import { errorData } from "../errors";
import { evaluate, truthy } from "../expr/jsonata";
import { sortableId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import { fanOut, type SubscriberResult } from "./fan-out";
import { startRun } from "./start-run";

/** A named event as producers send it: to `POST /api/events` or as a queue message. */
export interface EventMessage {
  name: string;
  id?: string | undefined;
  payload?: Json | undefined;
  source?: string | undefined;
}

export interface PublishedEvent {
  name: string;
  id: string;
  payload: Json;
  source: string | null;
  publishedAt: number;
}

/** Checks an event's shape; the message names what is wrong. */
export function parseEventMessage(value: unknown): { ok: true; event: EventMessage } | { ok: false; message: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: "an event is a JSON object {name, id?, payload?, source?}" };
  }
  const { name, id, payload, source, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0)
    return { ok: false, message: `unknown event field ${extra.map((key) => `"${key}"`).join(", ")}` };
  if (!eventNameSchema.safeParse(name).success) {
    return { ok: false, message: "name must be letters, digits and . _ : / - (1 to 200 characters)" };
  }
  if (id !== undefined && (typeof id !== "string" || id.length === 0 || id.length > 200)) {
    return { ok: false, message: "id must be a non-empty string of at most 200 characters" };
  }
  if (source !== undefined && (typeof source !== "string" || source.length > 200)) {
    return { ok: false, message: "source must be a string of at most 200 characters" };
  }
  return { ok: true, event: { name: name as string, id, payload: payload as Json | undefined, source } };
}

export function publishedEvent(message: EventMessage, publishedAt: number, fallbackId?: string): PublishedEvent {
  return {
    name: message.name,
    id: message.id ?? fallbackId ?? sortableId("evt", publishedAt),
    payload: message.payload ?? null,
    source: message.source ?? null,
    publishedAt,
  };
}

/**
 * Starts a run of every workflow with a matching `event` trigger whose filter passes. The
 * event's id is each run's dedup key, so publishing the same id again (a redelivered queue
 * message, a retried request) inside the window starts nothing new.
 */
/** `only`: the workflows a key limited to some may start; the others' subscriptions are not told. */
export async function publishEvent(
  env: Env,
  event: PublishedEvent,
  only: readonly string[] | null = null,
): Promise<SubscriberResult[]> {
  const envelope: JsonObject = {
    body: event.payload,
    event: { id: event.id, name: event.name, source: event.source, publishedAt: event.publishedAt },
  };
  return fanOut(env, "event", event.name, only, async (workflow) => {
    const workflowId = workflow.workflowId;
    for (const trigger of workflow.definition.triggers) {
      if (trigger.type !== "event" || trigger.name !== event.name) continue;
      if (trigger.filter) {
        let pass: boolean;
        try {
          pass = truthy(await evaluate(trigger.filter, envelope));
        } catch (thrown) {
          const message = thrown instanceof Error ? thrown.message : String(thrown);
          return { workflowId, status: "rejected", error: errorData("trigger.filter_failed", message) };
        }
        if (!pass) continue;
      }
      const result = await startRun(env, {
        workflowId,
        triggerType: "event",
        workflow,
        trigger,
        input: event.payload,
        envelope,
        idempotencyKey: event.id,
        details: { event: event.name, eventId: event.id, source: event.source },
        receivedAt: event.publishedAt,
      });
      return { workflowId, ...result };
    }
    return { workflowId, status: "filtered" };
  });
}
