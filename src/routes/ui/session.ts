import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { isRole, type Principal, type Role } from "../../auth/roles";
import type { Env } from "../../env";
import { newToken } from "../../lib/tokens";
import { findApiKey } from "../../store/api-keys";
import { database } from "../../store/db";
import type { UiEnv } from "./types";

/**
 * Dashboard sessions: a cookie signed with HMAC-SHA256 (hono's signed cookies) that carries its
 * own expiry, so a copied cookie stops working when it ends whatever the browser does with
 * Max-Age. The key is derived from API_TOKEN (or SESSION_SECRET): rotating the token signs
 * everyone out.
 */
export const sessionCookie = "signalbox_session";
export const sessionTtlMs = 12 * 60 * 60 * 1000;

/** Who signed in: the API_TOKEN (`api-token`) or an API key, by id and name, as audit and approvals name them. */
export interface SessionActor {
  kind: "token" | "key";
  id: string;
  name: string;
}

export interface Session {
  id: string;
  actor: SessionActor;
  /** The role the sign-in carried: pages that act check it on the server. */
  role: Role;
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

function encodeName(name: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(name)));
}

function decodeName(text: string): string | undefined {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(text), (char) => char.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export async function startSession(c: UiContext, principal: Principal, now = Date.now()): Promise<Session> {
  const secret = sessionSecret(c.env);
  if (!secret) throw new Error("startSession without a session secret");
  const actor: SessionActor = { kind: principal.kind, id: principal.id, name: principal.name };
  const session: Session = { id: newToken(), actor, role: principal.role, expiresAt: now + sessionTtlMs };
  // The name is base64: a key's name may hold the separator.
  const value = `v2|${session.expiresAt}|${session.id}|${actor.kind}|${actor.id}|${session.role}|${encodeName(actor.name)}`;
  await setSignedCookie(c, sessionCookie, value, secret, {
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

/**
 * A cookie that is absent, tampered with, malformed or signed under another key reads as missing.
 * A key's session lasts only while the key does: its row is read again, so revoking the key (or
 * its expiry) ends the session at the next page.
 */
export async function readSession(c: UiContext, now = Date.now()): Promise<SessionState> {
  const secret = sessionSecret(c.env);
  if (!secret) return { missing: true };
  const value = await getSignedCookie(c, secret, sessionCookie);
  if (typeof value !== "string") return { missing: true };
  const [format, expires, id, kind, actorId, role, name] = value.split("|");
  const expiresAt = Number(expires);
  if (format !== "v2" || !Number.isSafeInteger(expiresAt) || !id || !actorId || !isRole(role) || name === undefined) {
    return { missing: true };
  }
  if (kind !== "token" && kind !== "key") return { missing: true };
  const actorName = decodeName(name);
  if (actorName === undefined) return { missing: true };
  if (expiresAt <= now) return { expired: true };
  if (kind === "key") {
    const row = await findApiKey(database(c.env.DB), actorId);
    if (!row || row.revokedAt !== null) return { missing: true };
    if (row.expiresAt !== null && row.expiresAt <= now) return { expired: true };
  }
  return { session: { id, actor: { kind, id: actorId, name: actorName }, role, expiresAt } };
}
