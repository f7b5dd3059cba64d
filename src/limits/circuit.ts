import type { CircuitConfig, CircuitStatus } from "./types";

/**
 * A circuit breaker's arithmetic, pure and on an injected clock: calls counted in a rolling
 * window of buckets (as cockatiel's SamplingBreaker counts them), opened when the failed share
 * reaches the threshold over enough calls, one probe after the cool-down, closed when a probe
 * answers. The state is plain data, kept in the limit's object between calls.
 */

/** The window is counted in this many buckets: old calls fall out a tenth of a window at a time. */
const buckets = 10;
/** While a probe is out, the others ask again this often (or when the probe's time is up, if sooner). */
export const probeRecheckMs = 1_000;

export interface CircuitBucket {
  start: number;
  successes: number;
  failures: number;
}

export interface CircuitState {
  status: CircuitStatus;
  /** When it last opened. */
  openedAt?: number;
  /** Half-open: the probe's key and when its time is up (then another call may probe). */
  probe?: { key: string; until: number };
  window: CircuitBucket[];
  /** How often it has opened. */
  opens: number;
  lastFailure?: { at: number; code?: string };
}

export function closedCircuit(): CircuitState {
  return { status: "closed", window: [], opens: 0 };
}

export type CircuitAdmission =
  /** Go; `probe` when this call is the half-open circuit's one probe (its key is remembered). */
  { go: true; probe: boolean } | { go: false; until: number };

/** When an open circuit lets its probe through. */
export function reopensAt(state: CircuitState, config: CircuitConfig): number | undefined {
  return state.openedAt === undefined ? undefined : state.openedAt + config.coolDownMs;
}

/** Whether the call `key` may go now. Does not change the state: `markProbe` does, once the call is sure to go. */
export function admitCircuit(state: CircuitState, config: CircuitConfig, key: string, now: number): CircuitAdmission {
  if (state.status === "closed") return { go: true, probe: false };
  if (state.status === "open") {
    const at = reopensAt(state, config) ?? now;
    return now >= at ? { go: true, probe: true } : { go: false, until: at };
  }
  const probe = state.probe;
  if (!probe || probe.key === key || now >= probe.until) return { go: true, probe: true };
  return { go: false, until: Math.min(probe.until, now + probeRecheckMs) };
}

/** The call `key` is the probe, due to answer by `until`. */
export function markProbe(state: CircuitState, key: string, until: number): CircuitState {
  return { ...state, status: "half-open", probe: { key, until } };
}

function counted(window: readonly CircuitBucket[], config: CircuitConfig, now: number): CircuitBucket[] {
  return window.filter((bucket) => bucket.start > now - config.windowMs);
}

/** Successes and failures within the window at `now`. */
export function windowCounts(
  state: CircuitState,
  config: CircuitConfig,
  now: number,
): { successes: number; failures: number } {
  let successes = 0;
  let failures = 0;
  for (const bucket of counted(state.window, config, now)) {
    successes += bucket.successes;
    failures += bucket.failures;
  }
  return { successes, failures };
}

function recordCall(state: CircuitState, config: CircuitConfig, failed: boolean, now: number): CircuitBucket[] {
  const width = Math.max(1, Math.floor(config.windowMs / buckets));
  const start = Math.floor(now / width) * width;
  const window = counted(state.window, config, now);
  const last = window[window.length - 1];
  const bucket = last && last.start === start ? { ...last } : { start, successes: 0, failures: 0 };
  if (failed) bucket.failures += 1;
  else bucket.successes += 1;
  if (last && last.start === start) window[window.length - 1] = bucket;
  else window.push(bucket);
  return window;
}

/**
 * A call's outcome. Closed: counted, and the circuit opens once the window holds at least
 * `minimumCalls` calls of which `failureRate` or more failed. Half-open: the probe's answer closes
 * it (an empty window) or opens it again; other calls' answers (made before it opened) change
 * nothing. Open: nothing is counted.
 */
export function recordOutcome(
  state: CircuitState,
  config: CircuitConfig,
  key: string,
  failed: boolean,
  now: number,
  code?: string,
): CircuitState {
  const noted: CircuitState = failed ? { ...state, lastFailure: { at: now, ...(code ? { code } : {}) } } : state;
  if (state.status === "half-open") {
    if (state.probe?.key !== key) return noted;
    if (!failed) return { status: "closed", window: [], opens: state.opens, ...lastFailureOf(noted) };
    return open(noted, now);
  }
  if (state.status === "open") return noted;
  const window = recordCall(state, config, failed, now);
  const next: CircuitState = { ...noted, window };
  const { successes, failures } = windowCounts(next, config, now);
  const total = successes + failures;
  if (failed && total >= config.minimumCalls && failures >= config.failureRate * total) return open(next, now);
  return next;
}

function open(state: CircuitState, now: number): CircuitState {
  const { probe: _probe, ...rest } = state;
  return { ...rest, status: "open", openedAt: now, window: [], opens: state.opens + 1 };
}

function lastFailureOf(state: CircuitState): Pick<CircuitState, "lastFailure"> {
  return state.lastFailure ? { lastFailure: state.lastFailure } : {};
}
