import { describe, expect, it } from "vitest";
import { closedCircuit, probeRecheckMs, recordOutcome, windowCounts } from "../../src/limits/circuit";
import { applyReport, decideTake, emptyLimitState, type LimitState } from "../../src/limits/policy";
import type { Admission, CircuitConfig, LimitConfig } from "../../src/limits/types";

/** A limit driven through a list of asks, with its turns kept as the LimitObject keeps them. */
function limit(config: LimitConfig) {
  let state: LimitState = emptyLimitState();
  const turns = new Map<string, number>();
  return {
    take(key: string, now: number, tokens?: number, timeoutMs = 10_000): Admission {
      const decision = decideTake(
        state,
        config,
        { key, timeoutMs, ...(tokens ? { tokens } : {}) },
        turns.get(key),
        now,
      );
      state = decision.state;
      if (decision.reservation === null) turns.delete(key);
      else if (decision.reservation !== undefined) turns.set(key, decision.reservation);
      return decision.answer;
    },
    report(key: string, now: number, outcome: "ok" | "failure", extra: Record<string, unknown> = {}) {
      state = applyReport(state, config, { key, outcome, ...extra }, now);
    },
    get state() {
      return state;
    },
    turns,
  };
}

const circuit: CircuitConfig = { failureRate: 0.5, minimumCalls: 4, windowMs: 60_000, coolDownMs: 30_000 };

describe("request and token rates", () => {
  it("spaces calls one emission apart and gives each waiting call its own turn, in the order asked", () => {
    const rpm = limit({ requestsPerMinute: 2 });
    expect(rpm.take("a", 0)).toEqual({ go: true });
    expect(rpm.take("b", 1_000)).toEqual({ go: false, until: 30_000, reason: "rate" });
    expect(rpm.take("c", 2_000)).toEqual({ go: false, until: 60_000, reason: "rate" });
    // Asking again before the turn keeps the same turn, and takes nothing more.
    expect(rpm.take("b", 20_000)).toEqual({ go: false, until: 30_000, reason: "rate" });
    expect(rpm.take("b", 30_000)).toEqual({ go: true });
    expect(rpm.turns.has("b")).toBe(false);
    expect(rpm.take("d", 30_000)).toEqual({ go: false, until: 90_000, reason: "rate" });
    expect(rpm.take("c", 60_000)).toEqual({ go: true });
    expect(rpm.state.counts).toMatchObject({ calls: 3, deferred: { rate: 4 } });
  });

  it("never lets more than the limit through in any minute when calls come back at their turn", () => {
    const rpm = limit({ requestsPerMinute: 5 });
    const went: number[] = [];
    // New calls every 1.7 s; a call told to wait asks again at its turn, as a run's alarm brings it back.
    const asks: { at: number; key: string }[] = [];
    for (let n = 0; n * 1_700 < 600_000; n += 1) asks.push({ at: n * 1_700, key: `call-${n}` });
    while (asks.length > 0) {
      asks.sort((a, b) => a.at - b.at);
      const ask = asks.shift() as { at: number; key: string };
      const answer = rpm.take(ask.key, ask.at);
      if (answer.go) went.push(ask.at);
      else asks.push({ at: answer.until, key: ask.key });
    }
    expect(went).toHaveLength(353);
    for (const start of went) {
      expect(went.filter((at) => at >= start && at < start + 60_000).length).toBeLessThanOrEqual(5);
    }
  });

  it("counts tokens when asked and corrects them by what the call used", () => {
    const tpm = limit({ tokensPerMinute: 6_000 });
    expect(tpm.take("a", 0, 3_000)).toEqual({ go: true });
    // 3000 tokens of 6000 a minute: the next call waits half a minute.
    expect(tpm.take("b", 0, 1_000)).toEqual({ go: false, until: 30_000, reason: "rate" });
    // `a` used only 600: the bucket gives the difference back to calls asking from now on.
    tpm.report("a", 1_000, "ok", { tokens: { estimated: 3_000, used: 600 } });
    expect(tpm.take("c", 1_000, 100)).toEqual({ go: false, until: 16_000, reason: "rate" });
  });

  it("holds every call back until a provider's Retry-After has passed, reserved turns included", () => {
    const rpm = limit({ requestsPerMinute: 60 });
    expect(rpm.take("a", 0)).toEqual({ go: true });
    expect(rpm.take("b", 0)).toEqual({ go: false, until: 1_000, reason: "rate" });
    rpm.report("a", 500, "ok", { retryAfterMs: 20_000 });
    expect(rpm.take("b", 1_000)).toEqual({ go: false, until: 20_500, reason: "retry-after" });
    expect(rpm.take("c", 1_000)).toEqual({ go: false, until: 20_500, reason: "retry-after" });
    expect(rpm.take("b", 20_500)).toEqual({ go: true });
    expect(rpm.take("c", 21_500)).toEqual({ go: true });
    expect(rpm.state.counts.rateLimited).toBe(1);
  });

  it("honours a Retry-After when only a circuit is configured", () => {
    const only = limit({ circuit });
    only.report("a", 0, "ok", { retryAfterMs: 5_000 });
    expect(only.take("b", 1_000)).toEqual({ go: false, until: 5_000, reason: "retry-after" });
    expect(only.turns.size).toBe(0);
    expect(only.take("b", 5_000)).toEqual({ go: true });
  });

  it("lets everything through when only a circuit is configured and it is closed", () => {
    const only = limit({ circuit });
    for (let n = 0; n < 20; n += 1) expect(only.take(`k${n}`, 0)).toEqual({ go: true });
    expect(only.turns.size).toBe(0);
  });
});

describe("circuit breaker", () => {
  it("opens at the failure share once the window holds enough calls", () => {
    const breaker = limit({ circuit });
    breaker.report("a", 0, "failure", { code: "node.http_status" });
    breaker.report("b", 1_000, "failure");
    breaker.report("c", 2_000, "ok");
    // Three calls: too few to judge, however many failed.
    expect(breaker.state.circuit.status).toBe("closed");
    breaker.report("d", 3_000, "ok");
    expect(breaker.state.circuit.status).toBe("closed");
    breaker.report("e", 4_000, "failure", { code: "node.timeout" });
    expect(breaker.state.circuit).toMatchObject({
      status: "open",
      openedAt: 4_000,
      opens: 1,
      lastFailure: { at: 4_000, code: "node.timeout" },
    });
    expect(breaker.take("f", 5_000)).toEqual({ go: false, until: 34_000, reason: "circuit", circuit: "open" });
  });

  it("forgets calls older than its window", () => {
    let state = closedCircuit();
    for (let n = 0; n < 3; n += 1) state = recordOutcome(state, circuit, `old${n}`, true, n * 1_000);
    expect(windowCounts(state, circuit, 59_000)).toEqual({ successes: 0, failures: 3 });
    expect(windowCounts(state, circuit, 70_000)).toEqual({ successes: 0, failures: 0 });
    // A minute on, one failure among three successes is a share of a quarter: it stays closed.
    for (let n = 0; n < 3; n += 1) state = recordOutcome(state, circuit, `new${n}`, false, 70_000 + n);
    state = recordOutcome(state, circuit, "late", true, 70_010);
    expect(state.status).toBe("closed");
  });

  it("lets one probe through after the cool-down, holds the others, and closes when it answers", () => {
    const breaker = limit({ circuit });
    for (const key of ["a", "b", "c", "d"]) breaker.report(key, 0, "failure");
    expect(breaker.state.circuit.status).toBe("open");
    expect(breaker.take("x", 29_999)).toMatchObject({ go: false, until: 30_000 });
    expect(breaker.take("probe", 30_000, undefined, 5_000)).toEqual({ go: true, probe: true });
    expect(breaker.state.circuit).toMatchObject({ status: "half-open", probe: { key: "probe", until: 35_000 } });
    expect(breaker.take("y", 30_100)).toEqual({
      go: false,
      until: 30_100 + probeRecheckMs,
      reason: "circuit",
      circuit: "half-open",
    });
    // An answer from a call that went before the circuit opened says nothing of now.
    breaker.report("a", 30_200, "ok");
    expect(breaker.state.circuit.status).toBe("half-open");
    breaker.report("probe", 30_300, "ok");
    expect(breaker.state.circuit).toMatchObject({ status: "closed", window: [], opens: 1 });
    expect(breaker.take("y", 31_100)).toEqual({ go: true });
  });

  it("opens again for another cool-down when the probe fails, and replaces a probe that never answers", () => {
    const breaker = limit({ circuit });
    for (const key of ["a", "b", "c", "d"]) breaker.report(key, 0, "failure");
    expect(breaker.take("p1", 30_000, undefined, 5_000)).toMatchObject({ go: true, probe: true });
    breaker.report("p1", 31_000, "failure");
    expect(breaker.state.circuit).toMatchObject({ status: "open", openedAt: 31_000, opens: 2 });
    expect(breaker.take("p2", 61_000, undefined, 5_000)).toMatchObject({ go: true, probe: true });
    // p2 never reports: once its time is up another call probes.
    expect(breaker.take("p3", 65_999)).toMatchObject({ go: false });
    expect(breaker.take("p3", 66_000, undefined, 5_000)).toEqual({ go: true, probe: true });
    expect(breaker.state.circuit.probe).toEqual({ key: "p3", until: 71_000 });
  });

  it("waits for the circuit before it takes a turn, so waiting on it spends nothing of the rate", () => {
    const both = limit({ requestsPerMinute: 60, circuit });
    for (const key of ["a", "b", "c", "d"]) both.report(key, 0, "failure");
    for (let n = 0; n < 10; n += 1) expect(both.take(`w${n}`, 1_000)).toMatchObject({ reason: "circuit" });
    expect(both.take("probe", 30_000)).toEqual({ go: true, probe: true });
    both.report("probe", 30_100, "ok");
    expect(both.take("next", 31_000)).toEqual({ go: true });
  });
});

describe("forced calls", () => {
  it("go at once whatever the rates or the circuit say, and push the calls after them back", () => {
    const both = limit({ requestsPerMinute: 2, circuit });
    expect(both.take("a", 0)).toEqual({ go: true });
    const forced = decideTake(
      both.state,
      { requestsPerMinute: 2, circuit },
      { key: "a:2", timeoutMs: 1, force: true },
      undefined,
      1,
    );
    expect(forced.answer).toEqual({ go: true });
    expect(forced.reservation).toBeUndefined();
    expect(forced.state.rates.requestTat).toBe(60_000);
  });
});
