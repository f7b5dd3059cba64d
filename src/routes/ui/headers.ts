import type { MiddlewareHandler } from "hono";

/**
 * Every /ui response: nothing from other origins, no inline script or style, no framing, and
 * no URL (run ids, filters) leaked to other sites through Referer.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("Content-Security-Policy", contentSecurityPolicy);
  c.header("Referrer-Policy", "same-origin");
  c.header("X-Frame-Options", "DENY");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Robots-Tag", "noindex, nofollow");
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
};
