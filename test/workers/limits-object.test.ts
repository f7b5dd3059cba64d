import { describe, expect, it } from "vitest";
import type { LimitConfig } from "../../src/limits/types";
import { limitObject } from "./limits-support";

const circuit = { failureRate: 0.5, minimumCalls: 2, windowMs: 60_000, coolDownMs: 30_000 };
const config: LimitConfig = { requestsPerMinute: 2, circuit };

describe("LimitObject", () => {
  it("gives calls their turns durably and answers the same turn to a call that asks again", async () => {
    const limit = limitObject("object-turns");
    const t0 = 1_800_000_000_000;
    await limit.setClock(t0);
    expect(await limit.stub.take(limit.name, config, { key: "a", timeoutMs: 1_000 })).toEqual({ go: true });
    expect(await limit.stub.take(limit.name, config, { key: "b", timeoutMs: 1_000 })).toEqual({
      go: false,
      until: t0 + 30_000,
      reason: "rate",
    });
    expect(await limit.stub.take(limit.name, config, { key: "b", timeoutMs: 1_000 })).toMatchObject({
      until: t0 + 30_000,
    });
    expect(await limit.turns()).toEqual([{ key: "b", at: t0 + 30_000 }]);
    await limit.setClock(t0 + 30_000);
    expect(await limit.stub.take(limit.name, config, { key: "b", timeoutMs: 1_000 })).toEqual({ go: true });
    expect(await limit.turns()).toEqual([]);
    const snapshot = await limit.stub.snapshot();
    expect(snapshot).toMatchObject({
      name: "object-turns",
      config,
      waiting: 0,
      state: { counts: { calls: 2, deferred: { rate: 2 } }, circuit: { status: "closed" } },
    });
  });

  it("opens its circuit on failures, lets one probe through after the cool-down and closes on its success", async () => {
    const limit = limitObject("object-circuit");
    const t0 = 1_800_000_000_000;
    await limit.setClock(t0);
    const breaker: LimitConfig = { circuit };
    for (const key of ["a", "b"]) {
      expect(await limit.stub.take(limit.name, breaker, { key, timeoutMs: 5_000 })).toEqual({ go: true });
      await limit.stub.report(limit.name, breaker, { key, outcome: "failure", code: "node.http_status" });
    }
    expect(await limit.stub.take(limit.name, breaker, { key: "c", timeoutMs: 5_000 })).toEqual({
      go: false,
      until: t0 + 30_000,
      reason: "circuit",
      circuit: "open",
    });
    await limit.setClock(t0 + 30_000);
    expect(await limit.stub.take(limit.name, breaker, { key: "c", timeoutMs: 5_000 })).toEqual({
      go: true,
      probe: true,
    });
    expect(await limit.stub.take(limit.name, breaker, { key: "d", timeoutMs: 5_000 })).toMatchObject({
      go: false,
      circuit: "half-open",
    });
    await limit.stub.report(limit.name, breaker, { key: "c", outcome: "ok" });
    expect(await limit.stub.take(limit.name, breaker, { key: "d", timeoutMs: 5_000 })).toEqual({ go: true });
    expect((await limit.stub.snapshot())?.state.circuit).toMatchObject({
      status: "closed",
      opens: 1,
      lastFailure: { at: t0, code: "node.http_status" },
    });
  });

  it("has nothing to show before any call used it", async () => {
    expect(await limitObject("object-unused").stub.snapshot()).toBeNull();
  });
});
