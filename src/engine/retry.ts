import type { ErrorData } from "../errors";
import { fnv1a } from "../lib/hash";
import type { RetryPolicy } from "./plan";

export function shouldRetry(policy: RetryPolicy, error: ErrorData, attempt: number): boolean {
  return error.retryable && attempt < policy.maxAttempts && !policy.nonRetryable.includes(error.code);
}

/**
 * Delay before attempt `attempt + 1`. Jitter is derived from a hash of the attempt's identity,
 * so the core stays pure and a replayed transition computes the same delay.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string, retryAfterMs?: number): number {
  const base =
    policy.backoff === "fixed" ? policy.initialDelayMs : policy.initialDelayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  const unit = fnv1a(`${seed}:${attempt}`) / 0xffffffff;
  const jittered = capped * (1 - policy.jitter / 2 + policy.jitter * unit);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
