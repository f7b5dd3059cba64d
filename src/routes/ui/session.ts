import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Env } from "../../env";
import { newToken } from "../../lib/tokens";
import { database } from "../../store/db";
import { isSignedOut, recordSignOut } from "../../store/sign-outs";
import type { UiEnv } from "./types";

/**
 * Dashboard sessions: a cookie signed with HMAC-SHA256 (hono's signed cookies) that carries its
 * own expiry, so a copied cookie stops working when it ends whatever the browser does with
 * Max-Age. The key is derived from API_TOKEN (or SESSION_SECRET): rotating the token signs
 * everyone out. Signing out records the session's id in D1 (dashboard_sign_outs), which every
 * request checks.
 */
export const sessionCookie = "signalbox_session";
export const sessionTtlMs = 12 * 60 * 60 * 1000;

/**
 * Who signed in. Today the only credential is the Worker's API_TOKEN; an access key (an id and
 * a name) becomes another kind here, read by `sessionActor` and nowhere else.
 */
export type Actor = { kind: "token"; name: string };

/** The actor of a session signed in with the Worker's API_TOKEN. */
export const apiTokenActor: Actor = { kind: "token", name: "API_TOKEN" };

export interface Session {
  id: string;
  actor: Actor;
  expiresAt: number;
}

type UiContext = Context<UiEnv>;

/** Undefined while the Worker has no API_TOKEN: nobody can sign in then. */
export function sessionSecret(env: Env): string | undefined {
  if (typeof env.SESSION_SECRET === "string" && env.SESSION_SECRET !== "") return env.SESSION_SECRET;
  return env.API_TOKEN ? `signalbox-dashboard-session:${env.API_TOKEN}` : undefined;
}

function isHttps(c: UiContext): boolean {
  return new URL(c.req.url).protocol === "https:";
}

export async function startSession(c: UiContext, actor: Actor, now = Date.now()): Promise<Session> {
  const secret = sessionSecret(c.env);
  if (!secret) throw new Error("startSession without a session secret");
  const session = { id: newToken(), actor, expiresAt: now + sessionTtlMs };
  const value = `v2|${session.expiresAt}|${session.id}|${actor.kind}|${encodeURIComponent(actor.name)}`;
  await setSignedCookie(c, sessionCookie, value, secret, {
    path: "/ui",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: Math.floor(sessionTtlMs / 1000),
  });
  return session;
}

/** Signing out: the session is recorded as ended in D1, then the cookie is deleted. */
export async function signOut(c: UiContext, session: Session, now = Date.now()): Promise<void> {
  await recordSignOut(database(c.env.DB), session.id, session.expiresAt, now);
  endSession(c);
}

export function endSession(c: UiContext): void {
  deleteCookie(c, sessionCookie, { path: "/ui", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
}

export type SessionState = { session: Session } | { missing: true } | { expired: true };

/** A cookie that is absent, tampered with, malformed or signed under another key reads as missing. */
export async function readSession(c: UiContext, now = Date.now()): Promise<SessionState> {
  const secret = sessionSecret(c.env);
  if (!secret) return { missing: true };
  const value = await getSignedCookie(c, secret, sessionCookie);
  if (typeof value !== "string") return { missing: true };
  const [format, expires, id, ...rest] = value.split("|");
  const expiresAt = Number(expires);
  const actor = actorOf(format, rest);
  if (!Number.isSafeInteger(expiresAt) || !id || !actor) return { missing: true };
  if (expiresAt <= now) return { expired: true };
  // Signing out ends the session on the server too: a copy of the cookie is no session then.
  if (await isSignedOut(database(c.env.DB), id)) return { missing: true };
  return { session: { id, actor, expiresAt } };
}

/** v1 cookies (before actors) could only hold the API token; they stay valid until they expire. */
function actorOf(format: string | undefined, fields: string[]): Actor | undefined {
  if (format === "v1") return fields.length === 1 && fields[0] === "api-token" ? apiTokenActor : undefined;
  if (format !== "v2" || fields.length !== 2 || fields[0] !== "token") return undefined;
  try {
    const name = decodeURIComponent(fields[1] ?? "");
    return name === "" ? undefined : { kind: "token", name };
  } catch {
    return undefined;
  }
}

/**
 * The signed-in person as every dashboard action records them. The one place that turns a
 * session into an identity: when access keys land, this and the sign-in change, not the pages.
 */
export function sessionActor(c: UiContext): Actor {
  return c.get("session").actor;
}

/** How an actor reads in the audit trail and on pages. */
export function actorLabel(actor: Actor): string {
  return actor.kind === "token" ? `token ${actor.name}` : actor.name;
}
