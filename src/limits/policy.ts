import { admitCircuit, type CircuitState, closedCircuit, markProbe, recordOutcome } from "./circuit";
import { correctTokens, emptyRates, nextTurn, pauseFor, type RateState } from "./rates";
import type { Admission, CallReport, DeferReason, LimitConfig, TakeRequest } from "./types";

/**
 * One limit's decisions, pure: whether a call goes now, waits for its turn, or waits for the
 * circuit; and what a call's outcome does to the buckets and the circuit. The LimitObject keeps
 * the state and the calls' reserved turns, and supplies the clock.
 */

export interface LimitCounts {
  /** Calls let through. */
  calls: number;
  /** Answers of "wait", by why. */
  deferred: Record<DeferReason, number>;
  /** Reported outcomes. */
  succeeded: number;
  failed: number;
  /** Reports that carried a Retry-After. */
  rateLimited: number;
}

export interface LimitState {
  rates: RateState;
  circuit: CircuitState;
  counts: LimitCounts;
}

export function emptyLimitState(): LimitState {
  return {
    rates: emptyRates(),
    circuit: closedCircuit(),
    counts: { calls: 0, deferred: { rate: 0, "retry-after": 0, circuit: 0 }, succeeded: 0, failed: 0, rateLimited: 0 },
  };
}

export interface TakeDecision {
  state: LimitState;
  answer: Admission;
  /** The call's reserved turn: set it (a time), drop it (null), or leave it as it is (undefined). */
  reservation?: number | null;
}

function hasRates(config: LimitConfig): boolean {
  return config.requestsPerMinute !== undefined || config.tokensPerMinute !== undefined;
}

function deferred(state: LimitState, reason: DeferReason): LimitState {
  const counts = state.counts;
  return { ...state, counts: { ...counts, deferred: { ...counts.deferred, [reason]: counts.deferred[reason] + 1 } } };
}

/**
 * A call asks to go. An open circuit holds it back before it takes a turn (waiting for the circuit
 * spends nothing of the rates). A call that was given a turn earlier keeps it: it goes once the
 * turn has come (and any Retry-After has passed), without being counted a second time.
 */
export function decideTake(
  state: LimitState,
  config: LimitConfig,
  request: TakeRequest,
  reserved: number | undefined,
  now: number,
): TakeDecision {
  if (request.force) return forced(state, config, request, now);
  const circuit = config.circuit ? admitCircuit(state.circuit, config.circuit, request.key, now) : undefined;
  if (circuit && !circuit.go) {
    return {
      state: deferred(state, "circuit"),
      answer: { go: false, until: circuit.until, reason: "circuit", circuit: state.circuit.status },
    };
  }
  let next = state;
  let at = now;
  let reason: DeferReason = "rate";
  let reservation: number | null | undefined;
  if (hasRates(config)) {
    if (reserved !== undefined) {
      at = Math.max(now, reserved, state.rates.pausedUntil);
      if (state.rates.pausedUntil > reserved && at > now) reason = "retry-after";
    } else {
      const turn = nextTurn(state.rates, config, request.tokens ?? 0, now);
      next = { ...next, rates: turn.rates };
      at = turn.at;
      reason = turn.reason ?? "rate";
    }
    reservation = at > now ? at : reserved !== undefined ? null : undefined;
  } else if (state.rates.pausedUntil > now) {
    // A limit with only a circuit still honours a provider's Retry-After.
    at = state.rates.pausedUntil;
    reason = "retry-after";
  }
  const probe = circuit?.go === true && circuit.probe;
  // The probe is the call that goes first once the cool-down is over, even if its turn is later.
  if (probe && config.circuit)
    next = { ...next, circuit: markProbe(next.circuit, request.key, at + request.timeoutMs) };
  if (at > now) {
    const answer: Admission = { go: false, until: at, reason };
    return reservation === undefined
      ? { state: deferred(next, reason), answer }
      : { state: deferred(next, reason), answer, reservation };
  }
  next = { ...next, counts: { ...next.counts, calls: next.counts.calls + 1 } };
  const answer: Admission = probe ? { go: true, probe: true } : { go: true };
  return reservation === undefined ? { state: next, answer } : { state: next, answer, reservation };
}

/** A call that goes whatever the limit says: the buckets count it, so the calls after it wait the longer. */
function forced(state: LimitState, config: LimitConfig, request: TakeRequest, now: number): TakeDecision {
  const rates = hasRates(config) ? nextTurn(state.rates, config, request.tokens ?? 0, now).rates : state.rates;
  return {
    state: { ...state, rates, counts: { ...state.counts, calls: state.counts.calls + 1 } },
    answer: { go: true },
  };
}

/** A call's outcome: the circuit counts it, the token bucket is corrected, a Retry-After pauses everyone. */
export function applyReport(state: LimitState, config: LimitConfig, report: CallReport, now: number): LimitState {
  const failed = report.outcome === "failure";
  const counts = {
    ...state.counts,
    succeeded: state.counts.succeeded + (failed ? 0 : 1),
    failed: state.counts.failed + (failed ? 1 : 0),
    rateLimited: state.counts.rateLimited + (report.retryAfterMs !== undefined ? 1 : 0),
  };
  let rates = state.rates;
  if (report.tokens) rates = correctTokens(rates, config, report.tokens.estimated, report.tokens.used);
  if (report.retryAfterMs !== undefined) rates = pauseFor(rates, report.retryAfterMs, now);
  const circuit = config.circuit
    ? recordOutcome(state.circuit, config.circuit, report.key, failed, now, report.code)
    : state.circuit;
  return { rates, circuit, counts };
}
