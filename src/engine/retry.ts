import type { ErrorData } from "../errors";
import { fnv1a } from "../lib/hash";
import type { RetryPolicy } from "./plan";

export function shouldRetry(policy: RetryPolicy, error: ErrorData, attempt: number): boolean {
  return error.retryable && attempt < policy.maxAttempts && !policy.nonRetryable.includes(error.code);
}

/**
 * The delay after failed attempt `attempt` (1 for the first): `initialMs`, multiplied by `factor`
 * for each attempt after the first, never above `maxMs`. The one backoff curve of Signalbox: node
 * retries build on it, and the shell's own retries (child starts, review mail, schedule ticks,
 * queue messages) use it with their fixed numbers.
 */
export function exponentialBackoff(
  attempt: number,
  curve: { initialMs: number; maxMs: number; factor?: number },
): number {
  return Math.min(curve.initialMs * (curve.factor ?? 2) ** Math.max(0, attempt - 1), curve.maxMs);
}

/**
 * Delay before attempt `attempt + 1`. Jitter is derived from a hash of the attempt's identity,
 * so the core stays pure and a replayed transition computes the same delay.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string, retryAfterMs?: number): number {
  const capped =
    policy.backoff === "fixed"
      ? Math.min(policy.initialDelayMs, policy.maxDelayMs)
      : exponentialBackoff(attempt, { initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs });
  const unit = fnv1a(`${seed}:${attempt}`) / 0xffffffff;
  const jittered = capped * (1 - policy.jitter / 2 + policy.jitter * unit);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
