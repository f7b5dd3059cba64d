import type { Context, MiddlewareHandler, Next } from "hono";
import { type AccessResult, accessHeader, accessSetup, verifyAccessToken } from "../../auth/access";
import { blockedFor, clientAddress, countFailure } from "../../auth/rate-limit";
import type { Env } from "../../env";
import { errorData, errorStatus } from "../../errors";
import { MessagePage } from "../../ui/pages/message-page";
import { noteAudit, principalActor } from "../audit-trail";
import { csrfToken, isCsrfToken } from "./csrf";
import { loginPath, requestedPath } from "./next-path";
import { readSession, type Session, sessionSecret } from "./session";
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
  const assertion = c.req.header(accessHeader);
  if (!("session" in state) && assertion && !("off" in accessSetup(c.env))) {
    return accessSession(c, assertion, next);
  }
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

/**
 * Behind Cloudflare Access the dashboard needs no sign-in: each request's Access token is
 * verified and stands for a session of its person, with the role ACCESS_ROLES gives them (a
 * trigger role, like a trigger key, is for the API only). Forms still need the form token,
 * derived from the token's subject and issue time.
 */
async function accessSession(c: Context<UiEnv>, assertion: string, next: Next) {
  const now = Date.now();
  const address = clientAddress(c);
  const wait = blockedFor("auth", address, now);
  if (wait !== undefined) return tooManyAccessFailures(c, wait);
  const setup = accessSetup(c.env);
  const result: AccessResult =
    "config" in setup
      ? await verifyAccessToken(setup.config, assertion, Date.now())
      : { error: "error" in setup ? setup.error : errorData("auth.access_not_configured", "Access is not set up") };
  if ("error" in result || result.principal.role === "trigger" || sessionSecret(c.env) === undefined) {
    const code = "error" in result ? result.error.code : "auth.forbidden";
    const message =
      "error" in result
        ? `Cloudflare Access let this request through, but Signalbox refused its token: ${result.error.message}.`
        : sessionSecret(c.env) === undefined
          ? "The dashboard needs API_TOKEN or SESSION_SECRET set to sign its forms."
          : "Your Access role is for the API only.";
    noteAudit(c, { code, ...("error" in result ? {} : { actor: principalActor(result.principal) }) });
    if ("error" in result && errorStatus[result.error.code] === 401) {
      const over = await countFailure(c.env, "auth", address, now);
      if (over !== undefined) return tooManyAccessFailures(c, over);
    }
    const status = "error" in result ? (errorStatus[result.error.code] as 401 | 403 | 503) : 403;
    return c.html(<MessagePage title="Not signed in" message={message} />, status);
  }
  const session: Session = {
    id: `access:${result.tokenId}`,
    actor: { kind: "access", id: result.email, name: result.email },
    role: result.principal.role,
    expiresAt: result.expiresAt,
  };
  c.set("session", session);
  c.set("csrf", await csrfToken(c.env, session));
  return next();
}

function tooManyAccessFailures(c: Context<UiEnv>, waitMs: number) {
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  return c.html(
    <MessagePage
      title="Too many attempts"
      message="Too many refused sign-ins from your address. Try again in a minute."
    />,
    429,
  );
}

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
