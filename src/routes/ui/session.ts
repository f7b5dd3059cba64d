import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { isRole, type Principal, type Role } from "../../auth/roles";
import type { Env } from "../../env";
import { newToken } from "../../lib/tokens";
import { findApiKey } from "../../store/api-keys";
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
 * Who signed in: the Worker's API_TOKEN, or an API key by its id and name. Pages and the audit
 * read it through `sessionActor`.
 */
export type Actor =
  | { kind: "token"; name: string }
  | { kind: "key"; id: string; name: string }
  | { kind: "access"; id: string; name: string };

/** The actor of a session signed in with the Worker's API_TOKEN. */
export const apiTokenActor: Actor = { kind: "token", name: "API_TOKEN" };

export interface Session {
  id: string;
  actor: Actor;
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

export async function startSession(c: UiContext, principal: Principal, now = Date.now()): Promise<Session> {
  const secret = sessionSecret(c.env);
  if (!secret) throw new Error("startSession without a session secret");
  const actor: Actor =
    principal.kind === "key" ? { kind: "key", id: principal.id, name: principal.name } : apiTokenActor;
  const session: Session = { id: newToken(), actor, role: principal.role, expiresAt: now + sessionTtlMs };
  const keyId = actor.kind === "key" ? actor.id : "-";
  const value = `v3|${session.expiresAt}|${session.id}|${actor.kind}|${keyId}|${session.role}|${encodeURIComponent(actor.name)}`;
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
  const [format, expires, id, ...rest] = value.split("|");
  const expiresAt = Number(expires);
  const signedIn = signedInAs(format, rest);
  if (!Number.isSafeInteger(expiresAt) || !id || !signedIn) return { missing: true };
  if (expiresAt <= now) return { expired: true };
  const { actor, role } = signedIn;
  // Signing out ends the session on the server too: a copy of the cookie is no session then.
  if (await isSignedOut(database(c.env.DB), id)) return { missing: true };
  if (actor.kind === "key") {
    const row = await findApiKey(database(c.env.DB), actor.id);
    if (!row || row.revokedAt !== null) return { missing: true };
    if (row.expiresAt !== null && row.expiresAt <= now) return { expired: true };
  }
  return { session: { id, actor, role, expiresAt } };
}

/**
 * v3 cookies carry the actor and the role. Older ones could only hold the API token, an admin:
 * they stay valid until they expire (v1 `api-token`, v2 `token|<name>`).
 */
function signedInAs(format: string | undefined, fields: string[]): { actor: Actor; role: Role } | undefined {
  if (format === "v1") return fields.length === 1 && fields[0] === "api-token" ? tokenSession : undefined;
  if (format === "v2") return fields.length === 2 && fields[0] === "token" ? tokenSession : undefined;
  if (format !== "v3" || fields.length !== 4) return undefined;
  const [kind, keyId, role, encoded] = fields;
  if (!isRole(role) || !keyId) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(encoded ?? "");
  } catch {
    return undefined;
  }
  if (name === "") return undefined;
  if (kind === "token") return { actor: { kind: "token", name }, role };
  if (kind === "key" && keyId !== "-") return { actor: { kind: "key", id: keyId, name }, role };
  return undefined;
}

const tokenSession = { actor: apiTokenActor, role: "admin" } as const;

/**
 * The signed-in person as every dashboard action records them: the one place that turns a
 * session into an identity.
 */
export function sessionActor(c: UiContext): Actor {
  return c.get("session").actor;
}

/** How an actor reads in the audit trail and on pages. */
export function actorLabel(actor: Actor): string {
  return actor.kind === "token" ? `token ${actor.name}` : `key ${actor.name}`;
}
