import type { Env } from "../../env";
import { sameSecret } from "../../lib/tokens";
import { type Session, sessionSecret } from "./session";

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(message));
  return [...new Uint8Array(signature)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The form token every state-changing dashboard form carries: an HMAC of the session's id, so
 * it needs no storage, differs per session and dies with it.
 */
export async function csrfToken(env: Env, session: Session): Promise<string> {
  const secret = sessionSecret(env);
  if (!secret) throw new Error("csrfToken without a session secret");
  return hmacHex(secret, `dashboard-form:${session.id}`);
}

export async function isCsrfToken(env: Env, session: Session, given: unknown): Promise<boolean> {
  return typeof given === "string" && given !== "" && sameSecret(given, await csrfToken(env, session));
}
