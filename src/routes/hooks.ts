import { Hono } from "hono";
import type { TriggerDefinition } from "../definition/schema";
import type { Env } from "../env";
import { fail } from "../errors";
import type { Json } from "../lib/json";
import { database } from "../store/db";
import { latestWorkflowForTrigger } from "../store/triggers";
import { startRun } from "../triggers/start-run";
import { verifyWebhook } from "../triggers/verify";
import { answer, errors, spec } from "./openapi-spec";
import { limitBody, parseJson } from "./request";
import { noNewRun, runStarted } from "./workflow-bodies";

export const hookRoutes = new Hono<{ Bindings: Env }>();

type WebhookTrigger = Extract<TriggerDefinition, { type: "webhook" }>;

/**
 * A webhook body becomes the run's input: JSON as parsed, a URL-encoded form as an object, else
 * text. A body declared JSON must parse; one sent without a Content-Type is JSON if it parses
 * and text if not, as senders that omit the header send either.
 */
function readPayload(contentType: string, text: string): Json {
  const type = contentType.toLowerCase();
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  if (type.includes("json")) return text.trim() === "" ? {} : parseJson(text, "webhook body");
  if (type === "" && text.trim() !== "") {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

hookRoutes.post(
  "/:workflowId",
  spec({
    summary: "Webhook trigger; a trigger with `verify` checks the signature over the raw body first",
    public: true,
    responses: {
      "202": answer("queued, or debounced (flow.debounce: the run starts once the key is quiet)", runStarted),
      "200": answer(noNewRun, runStarted),
      ...errors(400, 401, 404, 409, 413, 422),
    },
  }),
  limitBody,
  async (c) => {
    const workflowId = c.req.param("workflowId");
    const receivedAt = Date.now();
    // The raw bytes are what the sender signed: verify them before anything parses them.
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const workflow = await latestWorkflowForTrigger(c.env, database(c.env.DB), workflowId);
    if (!workflow || workflow.deletedAt !== null) fail("workflow.not_found", `no workflow ${workflowId}`);
    const trigger = workflow.definition.triggers.find((entry): entry is WebhookTrigger => entry.type === "webhook");
    if (!trigger) fail("trigger.not_found", `workflow ${workflowId} has no webhook trigger`);
    let deliveryId: string | undefined;
    if (trigger.verify) {
      const verified = await verifyWebhook(
        trigger.verify,
        { headers: c.req.raw.headers, body: raw, now: receivedAt },
        c.env,
      );
      if (!verified.ok) fail(verified.code, verified.message, { details: { scheme: trigger.verify.scheme } });
      deliveryId = verified.deliveryId;
    }
    const body = readPayload(c.req.header("content-type") ?? "", new TextDecoder().decode(raw));
    const result = await startRun(c.env, {
      workflowId,
      triggerType: "webhook",
      workflow,
      trigger,
      input: body,
      envelope: {
        body,
        headers: Object.fromEntries(c.req.raw.headers),
        query: Object.fromEntries(new URL(c.req.url).searchParams),
      },
      // The caller's Idempotency-Key wins, then the provider's delivery id, then the payload's hash.
      idempotencyKey: c.req.header("idempotency-key") || deliveryId,
      details: deliveryId ? { deliveryId } : undefined,
      receivedAt,
    });
    return c.json(result, result.status === "queued" || result.status === "debounced" ? 202 : 200);
  },
);
