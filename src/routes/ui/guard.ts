import type { MiddlewareHandler } from "hono";
import type { Env } from "../../env";
import { csrfToken, isCsrfToken } from "./csrf";
import { loginPath, requestedPath } from "./next-path";
import { readSession } from "./session";
import type { UiEnv } from "./types";

/** The origins a dashboard form may come from: the request's own, and PUBLIC_URL's. */
export function allowedOrigins(url: string, env: Env): Set<string> {
  const origins = new Set([new URL(url).origin]);
  if (env.PUBLIC_URL) {
    try {
      origins.add(new URL(env.PUBLIC_URL).origin);
    } catch {
      // A malformed PUBLIC_URL adds nothing; the request's own origin still works.
    }
  }
  return origins;
}

/**
 * A state-changing request must say it comes from this site: browsers send Origin with every
 * POST, and Sec-Fetch-Site where they support it. Either one naming another site refuses it.
 */
export function isSameOrigin(request: Request, env: Env): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  const origin = request.headers.get("origin");
  if (origin === null) return site === "same-origin";
  return allowedOrigins(request.url, env).has(origin);
}

/** Pages without a session go to sign-in and come back; fragments tell htmx to go there. */
export const requireSession: MiddlewareHandler<UiEnv> = async (c, next) => {
  const state = await readSession(c);
  if (!("session" in state)) {
    const back = c.req.method === "GET" ? requestedPath(c.req.url) : "/ui/runs";
    const target = loginPath(c.req.header("hx-request") ? (c.req.header("hx-current-url") ?? back) : back);
    if (c.req.header("hx-request")) {
      c.header("HX-Redirect", target);
      return c.body(null, 401);
    }
    return c.redirect(target, 303);
  }
  c.set("session", state.session);
  c.set("csrf", await csrfToken(c.env, state.session));
  return next();
};

export type FormCheck = { ok: true; form: FormData } | { ok: false; reason: "origin" | "token" | "body" };

/** Origin, then the session's form token; the body is read once here and handed on. */
export async function checkForm(
  c: Parameters<MiddlewareHandler<UiEnv>>[0],
  options: { token: boolean },
): Promise<FormCheck> {
  if (!isSameOrigin(c.req.raw, c.env)) return { ok: false, reason: "origin" };
  const type = c.req.header("content-type") ?? "";
  if (!/application\/x-www-form-urlencoded|multipart\/form-data/i.test(type)) return { ok: false, reason: "body" };
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch {
    return { ok: false, reason: "body" };
  }
  if (options.token && !(await isCsrfToken(c.env, c.get("session"), form.get("csrf")))) {
    return { ok: false, reason: "token" };
  }
  return { ok: true, form };
}
