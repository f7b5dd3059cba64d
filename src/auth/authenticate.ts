/**
 * Who is calling: API tokens and keys (hashed in D1), their roles and the workflows they may
 * reach (roles.ts). Routes ask it; nothing below the routes does.
 */
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import { sameSecret } from "../lib/tokens";
import { findApiKey, keyView } from "../store/api-keys";
import { database } from "../store/db";
import { hashSecret, looksLikeApiKey, parseApiKey } from "./api-key";
import { bootstrapPrincipal, isRole, type Principal } from "./roles";

/** A key's last use is written at most this often, so reads do not each cost a D1 write. */
export const lastUsedEvery = 60_000;

export type Authentication = { principal: Principal; touch?: { keyId: string } } | { error: ErrorData };

/**
 * Who a bearer token is: the bootstrap API_TOKEN, or an API key looked up by its id and checked
 * against its stored hash. Every request reads the key's row, so a revoked key is refused from
 * the next request on. The API and the dashboard's sign-in both ask here.
 */
export async function authenticateToken(env: Env, token: string, now: number): Promise<Authentication> {
  if (looksLikeApiKey(token)) return authenticateKey(env, token, now);
  const expected = env.API_TOKEN;
  if (!expected) {
    return {
      error: errorData("auth.not_configured", "API_TOKEN is not set: add it with `wrangler secret put API_TOKEN`"),
    };
  }
  if (!(await sameSecret(token, expected))) return { error: errorData("auth.invalid_token", "invalid API token") };
  return { principal: bootstrapPrincipal };
}

async function authenticateKey(env: Env, token: string, now: number): Promise<Authentication> {
  const parsed = parseApiKey(token);
  if (!parsed) return { error: errorData("auth.key_malformed", "the API key is not in the form Signalbox issues") };
  const row = await findApiKey(database(env.DB), parsed.id);
  // An unknown id still costs a hash and a comparison, so timing does not tell ids apart.
  const given = await hashSecret(parsed.secret);
  const matches = await sameSecret(given, row?.secretHash ?? "");
  if (!row || !matches) return { error: errorData("auth.key_unknown", "no such API key") };
  if (row.revokedAt !== null) return { error: errorData("auth.key_revoked", `API key ${row.id} was revoked`) };
  if (row.expiresAt !== null && row.expiresAt <= now) {
    return {
      error: errorData("auth.key_expired", `API key ${row.id} expired at ${new Date(row.expiresAt).toISOString()}`),
    };
  }
  const view = keyView(row);
  // A row with a role this version does not know grants nothing rather than something.
  if (!isRole(view.role)) return { error: errorData("auth.key_unknown", "no such API key") };
  const principal: Principal = {
    kind: "key",
    id: view.id,
    name: view.name,
    role: view.role,
    workflows: view.workflows,
  };
  const stale = row.lastUsedAt === null || row.lastUsedAt < now - lastUsedEvery;
  return stale ? { principal, touch: { keyId: row.id } } : { principal };
}
