import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";

const encoder = new TextEncoder();

/** Compares digests, so neither length nor content leaks through timing. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export const requireApiToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const expected = c.env.API_TOKEN;
  if (!expected) fail("auth.not_configured", "API_TOKEN is not set: add it with `wrangler secret put API_TOKEN`");
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1]) fail("auth.missing_token", "missing `Authorization: Bearer <token>` header");
  if (!(await sameSecret(match[1].trim(), expected))) fail("auth.invalid_token", "invalid API token");
  await next();
};
