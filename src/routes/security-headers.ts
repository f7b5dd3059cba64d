import type { MiddlewareHandler } from "hono";

/** For an HTML answer that set no policy of its own: nothing loads, nothing frames it. */
export const fallbackPolicy =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Every answer: `X-Content-Type-Options: nosniff`. Every HTML answer (dashboard, approval pages,
 * messages) also gets a CSP with `frame-ancestors 'none'`, `X-Frame-Options: DENY` and a
 * Referrer-Policy that sends no URL to other origins, unless the page set stricter ones itself
 * (the dashboard's CSP, approval pages' `no-referrer`).
 */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  try {
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  } catch {
    // An answer passed through with immutable headers: copy it once, then set them.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  }
  if (!/\btext\/html\b/i.test(c.res.headers.get("content-type") ?? "")) return;
  if (!c.res.headers.has("Content-Security-Policy")) c.res.headers.set("Content-Security-Policy", fallbackPolicy);
  if (!c.res.headers.has("X-Frame-Options")) c.res.headers.set("X-Frame-Options", "DENY");
  if (!c.res.headers.has("Referrer-Policy")) c.res.headers.set("Referrer-Policy", "same-origin");
};
