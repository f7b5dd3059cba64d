import { rateOf, take } from "../flow/gcra";
import type { LimitConfig } from "./types";

/**
 * Requests and tokens per minute, on the flow gates' GCRA (src/flow/gcra.ts) with a burst of
 * one: calls are spaced evenly, so no window of a minute ever holds more than the limit. A call
 * that may not go now is given its turn (a time), and the buckets move past it at once: the
 * calls waiting are served in the order they asked, each asking once.
 */

const minuteMs = 60_000;

export interface RateState {
  /** GCRA arrival times: when the next request, and the next token, may go. */
  requestTat: number;
  tokenTat: number;
  /** A provider's Retry-After: nothing goes before this. */
  pausedUntil: number;
}

export function emptyRates(): RateState {
  return { requestTat: 0, tokenTat: 0, pausedUntil: 0 };
}

export interface Turn {
  rates: RateState;
  /** When the call may go (`now` when it may go at once). */
  at: number;
  /** What held it back, when it waits. */
  reason?: "rate" | "retry-after";
}

/** Gives a call of `tokens` (estimated) its turn at or after `now`. */
export function nextTurn(rates: RateState, config: LimitConfig, tokens: number, now: number): Turn {
  const requests = config.requestsPerMinute;
  const perMinute = config.tokensPerMinute;
  const byRate = Math.max(requests ? rates.requestTat : 0, perMinute && tokens > 0 ? rates.tokenTat : 0);
  const at = Math.max(now, byRate, rates.pausedUntil);
  const next = { ...rates };
  if (requests) {
    const taken = take(rateOf(requests, minuteMs), rates.requestTat, at);
    if (taken.ok) next.requestTat = taken.tat;
  }
  if (perMinute && tokens > 0) {
    const taken = take(rateOf(perMinute / tokens, minuteMs), rates.tokenTat, at);
    if (taken.ok) next.tokenTat = taken.tat;
  }
  if (at <= now) return { rates: next, at: now };
  return { rates: next, at, reason: rates.pausedUntil >= at && rates.pausedUntil > byRate ? "retry-after" : "rate" };
}

/** A call used more (or fewer) tokens than it was counted for: the token bucket is corrected. */
export function correctTokens(rates: RateState, config: LimitConfig, estimated: number, used: number): RateState {
  const perMinute = config.tokensPerMinute;
  if (!perMinute || estimated === used) return rates;
  return { ...rates, tokenTat: Math.max(0, rates.tokenTat + ((used - estimated) * minuteMs) / perMinute) };
}

/** A 429's Retry-After: every call of the limit waits until it has passed. */
export function pauseFor(rates: RateState, retryAfterMs: number, now: number): RateState {
  return { ...rates, pausedUntil: Math.max(rates.pausedUntil, now + retryAfterMs) };
}
