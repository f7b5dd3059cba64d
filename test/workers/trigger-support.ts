import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { scheduleStub } from "../../src/triggers/schedules";

export { scheduleStub };

/** The schedule object of a workflow, as a stub for runDurableObjectAlarm / runInDurableObject. */
export function scheduleObject(workflowId: string) {
  return env.SCHEDULES.get(env.SCHEDULES.idFromName(workflowId));
}

/** Run ids of a workflow that reached D1 (checkpoints land behind the run: settle first). */
export async function runIdsOf(workflowId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM runs WHERE workflow_id = ? ORDER BY id")
    .bind(workflowId)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

/** Delivers messages to the Worker's queue handler as the queue would, and returns the ack/retry state. */
export async function deliver(queue: string, bodies: { id: string; body: unknown; attempts?: number }[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((entry) => ({ id: entry.id, timestamp: new Date(), attempts: entry.attempts ?? 1, body: entry.body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

/** Runs the Worker's `scheduled` handler (the watchdog) as the cron trigger would, at `scheduledTime`. */
export async function runWatchdog(scheduledTime: number): Promise<void> {
  const { createScheduledController } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

export function definition(id: string, triggers: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    triggers,
    nodes: [{ id: "echo", type: "transform", config: { set: { seen: "input" } } }],
    edges: [],
    ...extra,
  };
}

const encoder = new TextEncoder();

/** HMAC-SHA256 of `data` as hex or base64, for signing test webhooks. */
export async function hmac(key: string | Uint8Array, data: string, encoding: "hex" | "base64" = "hex") {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const imported = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const digest = new Uint8Array(await crypto.subtle.sign("HMAC", imported, encoder.encode(data)));
  if (encoding === "hex") return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return btoa(String.fromCharCode(...digest));
}
