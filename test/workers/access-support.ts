import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { api } from "./helpers";

export interface MadeKey {
  id: string;
  key: string;
  name: string;
  role: string;
  workflows: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Makes a key with the bootstrap API_TOKEN and returns it with its one-time secret. */
export async function makeKey(body: Record<string, unknown>): Promise<MadeKey> {
  const response = await api("/api/keys", { method: "POST", json: body });
  expect(response.status).toBe(201);
  return (await response.json()) as MadeKey;
}

/** An /api call made with the given key instead of the API_TOKEN. */
export function asKey(key: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return api(path, { ...init, headers });
}

/** Moves a stored key's expiry: tests make a key expire without waiting for the clock. */
export async function setExpiry(id: string, expiresAt: number): Promise<void> {
  await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(expiresAt, id).run();
}
