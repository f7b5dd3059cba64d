import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { redact, sealedMarker } from "../lib/sealed-value";

const marker = `"${sealedMarker}"`;

/**
 * The last guard of every /api answer: a JSON body that still holds a sealed value (a route
 * that passes stored values along as they are) has it redacted before it leaves. Uploaded files
 * are the user's bytes, streamed as they are: never read here.
 */
export const redactAnswers: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  await next();
  if (c.req.path.startsWith("/api/files/")) return;
  const type = c.res.headers.get("content-type") ?? "";
  if (!type.includes("application/json") || !c.res.body) return;
  const text = await c.res.clone().text();
  if (!text.includes(marker)) return;
  const headers = new Headers(c.res.headers);
  headers.delete("content-length");
  c.res = new Response(JSON.stringify(redact(JSON.parse(text))), { status: c.res.status, headers });
};
