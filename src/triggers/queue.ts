import { exponentialBackoff } from "../engine/retry";
import type { Env } from "../env";
import { toErrorData } from "../errors";
import { logLine } from "../lib/log";
import { parseEventMessage, publishEvent, publishedEvent } from "./events";
import { handleR2Notification, parseR2Notification } from "./r2-events";

/** Queue names as wrangler.toml declares them: the queue handler dispatches on them. */
export const triggerQueues = {
  events: "signalbox-events",
  r2Events: "signalbox-r2-events",
} as const;

type Outcome = { ok: true; summary: unknown } | { ok: false; poison: string };

const consumers: Record<string, (message: Message, env: Env) => Promise<Outcome>> = {
  [triggerQueues.events]: consumeEvent,
  [triggerQueues.r2Events]: consumeR2Notification,
};

/** Whether this module consumes `queue`; the Worker's queue handler routes the rest elsewhere. */
export function consumesQueue(queue: string): boolean {
  return queue in consumers;
}

/**
 * Consumes a batch from one of the trigger queues. Each message is acked on its own: a
 * malformed one is logged and dropped (retrying cannot fix it); one that failed for a
 * passing reason (D1 unreachable) is retried with backoff, and the retry starts nothing
 * twice because every run is claimed under the event's id.
 */
export async function consumeTriggerBatch(batch: MessageBatch, env: Env): Promise<void> {
  const consume = consumers[batch.queue];
  if (!consume) throw new Error(`no trigger consumer for queue ${batch.queue}`);
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const outcome = await consume(message, env);
        if (!outcome.ok) {
          logLine("error", "dropped a malformed queue message", {
            queue: batch.queue,
            id: message.id,
            reason: outcome.poison,
          });
        } else {
          logLine("info", "queue message handled", { queue: batch.queue, id: message.id, results: outcome.summary });
        }
        message.ack();
      } catch (thrown) {
        logLine("warn", "queue message failed; retrying", {
          queue: batch.queue,
          id: message.id,
          attempts: message.attempts,
          error: toErrorData(thrown),
        });
        message.retry({ delaySeconds: exponentialBackoff(message.attempts, { initialMs: 5, maxMs: 300 }) });
      }
    }),
  );
}

/** Producers may send the event as an object or as its JSON text. */
function body(message: Message): unknown {
  if (typeof message.body !== "string") return message.body;
  try {
    return JSON.parse(message.body) as unknown;
  } catch {
    return message.body;
  }
}

async function consumeEvent(message: Message, env: Env): Promise<Outcome> {
  const parsed = parseEventMessage(body(message));
  if (!parsed.ok) return { ok: false, poison: parsed.message };
  // Without an id of its own, the queue message's id (stable across redeliveries) is the event's.
  const event = publishedEvent(parsed.event, message.timestamp.getTime(), `msg_${message.id}`);
  return { ok: true, summary: { eventId: event.id, runs: await publishEvent(env, event) } };
}

async function consumeR2Notification(message: Message, env: Env): Promise<Outcome> {
  const parsed = parseR2Notification(body(message));
  if (!parsed.ok) return { ok: false, poison: parsed.message };
  return { ok: true, summary: await handleR2Notification(env, parsed.notification) };
}
