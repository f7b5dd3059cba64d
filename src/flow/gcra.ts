/**
 * The generic cell rate algorithm: one number per bucket (the theoretical arrival time, `tat`)
 * instead of a token count and a refill clock. `emissionMs` is the spacing between starts
 * (period / limit); `burst` starts may go at once after a quiet spell.
 */
export interface Rate {
  emissionMs: number;
  burst: number;
}

export type Take = { ok: true; tat: number } | { ok: false; tat: number; retryAt: number };

export function rateOf(limit: number, periodMs: number, burst = 1): Rate {
  return { emissionMs: periodMs / limit, burst: Math.max(1, burst) };
}

/** Takes one start at `now` from a bucket whose arrival time is `tat` (0 for a new bucket). */
export function take(rate: Rate, tat: number, now: number): Take {
  const tolerance = rate.emissionMs * (rate.burst - 1);
  const allowedAt = tat - tolerance;
  if (now < allowedAt) return { ok: false, tat, retryAt: Math.ceil(allowedAt) };
  return { ok: true, tat: Math.max(tat, now) + rate.emissionMs };
}
