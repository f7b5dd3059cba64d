import type { Context } from "hono";
import type { Env } from "../env";

/**
 * Failed authentications and approval-link guesses, counted per client address with Cloudflare's
 * Rate Limiting binding (`AUTH_LIMITER` in wrangler.toml: 10 failures a minute per address and
 * kind). Only failures spend the budget. Once a client has spent it, this isolate refuses every
 * attempt of that kind from it until the window ends (a right guess included, so the limit
 * cannot be probed by watching for a success); other isolates refuse at the client's next
 * failure, since the binding's count is shared.
 */
export type LimitKind = "auth" | "approval";

/** The binding's window: Retry-After of a refused attempt. */
export const limitWindowMs = 60_000;

/** Clients this isolate refuses, and until when. Bounded: the oldest go first. */
const blocked = new Map<string, number>();
const maxBlocked = 10_000;

/** The client's address as Cloudflare's edge sends it; none outside Cloudflare (local tools, tests). */
export function clientAddress(c: Context): string | undefined {
  return c.req.header("cf-connecting-ip") ?? undefined;
}

/** Seconds until this client may try again; undefined when it may now. */
export function blockedFor(kind: LimitKind, address: string | undefined, now: number): number | undefined {
  if (address === undefined) return undefined;
  const key = `${kind}:${address}`;
  const until = blocked.get(key);
  if (until === undefined) return undefined;
  if (until <= now) {
    blocked.delete(key);
    return undefined;
  }
  return until - now;
}

/**
 * Counts one failure. Answers the wait in ms when this failure went over the budget (the
 * caller answers 429 instead of its own refusal), undefined while the client is within it.
 * Without the binding or a client address nothing is counted.
 */
export async function countFailure(
  env: Env,
  kind: LimitKind,
  address: string | undefined,
  now: number,
): Promise<number | undefined> {
  const limiter = env.AUTH_LIMITER;
  if (address === undefined || !limiter) return undefined;
  const key = `${kind}:${address}`;
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key }));
  } catch (thrown) {
    // A limiter that cannot answer does not lock people out; the refusal still stands.
    console.log(JSON.stringify({ level: "warn", message: "rate limiter unavailable", error: String(thrown) }));
    return undefined;
  }
  if (success) return undefined;
  if (blocked.size >= maxBlocked) {
    const oldest = blocked.keys().next().value;
    if (oldest !== undefined) blocked.delete(oldest);
  }
  blocked.set(key, now + limitWindowMs);
  return limitWindowMs;
}

/** Forgets every block: tests that need a fresh isolate's view. */
export function resetBlocks(): void {
  blocked.clear();
}
