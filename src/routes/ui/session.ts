import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Env } from "../../env";
import { newToken } from "../../lib/tokens";
import type { UiEnv } from "./types";

/**
 * Dashboard sessions: a cookie signed with HMAC-SHA256 (hono's signed cookies) that carries its
 * own expiry, so a copied cookie stops working when it ends whatever the browser does with
 * Max-Age. The key is derived from API_TOKEN (or SESSION_SECRET): rotating the token signs
 * everyone out.
 */
export const sessionCookie = "signalbox_session";
export const sessionTtlMs = 12 * 60 * 60 * 1000;

export interface Session {
  id: string;
  /** Who signed in: today every session holds the one API token; roles come with access keys. */
  subject: string;
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

export async function startSession(c: UiContext, subject: string, now = Date.now()): Promise<Session> {
  const secret = sessionSecret(c.env);
  if (!secret) throw new Error("startSession without a session secret");
  const session = { id: newToken(), subject, expiresAt: now + sessionTtlMs };
  await setSignedCookie(c, sessionCookie, `v1|${session.expiresAt}|${session.id}|${subject}`, secret, {
    path: "/ui",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: Math.floor(sessionTtlMs / 1000),
  });
  return session;
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
  const [format, expires, id, subject] = value.split("|");
  const expiresAt = Number(expires);
  if (format !== "v1" || !Number.isSafeInteger(expiresAt) || !id || !subject) return { missing: true };
  if (expiresAt <= now) return { expired: true };
  return { session: { id, subject, expiresAt } };
}
