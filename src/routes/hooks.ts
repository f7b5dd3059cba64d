import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import type { Json } from "../lib/json";
import { startRun } from "../triggers/start-run";
import { limitBody } from "./request";

export const hookRoutes = new Hono<{ Bindings: Env }>();

/** A webhook body becomes the run's input: JSON as parsed, forms as an object, else text. */
async function readPayload(request: Request): Promise<Json> {
  const type = request.headers.get("content-type") ?? "";
  const text = await request.text();
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  if (type.includes("json") || (type === "" && text.trim() !== "")) {
    try {
      return text.trim() === "" ? {} : (JSON.parse(text) as Json);
    } catch (thrown) {
      fail("request.invalid_json", `webhook body is not valid JSON: ${(thrown as Error).message}`);
    }
  }
  return text;
}

hookRoutes.post("/:workflowId", limitBody, async (c) => {
  const input = await readPayload(c.req.raw);
  const result = await startRun(c.env, {
    workflowId: c.req.param("workflowId"),
    triggerType: "webhook",
    input,
    idempotencyKey: c.req.header("idempotency-key") || undefined,
    receivedAt: Date.now(),
  });
  return c.json(result, result.status === "duplicate" ? 200 : 202);
});
