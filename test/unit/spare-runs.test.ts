import { describe, expect, it } from "vitest";
import { isRunId } from "../../src/lib/ids";
import {
  defaultSpareRunTtlMs,
  type SpareMaker,
  SpareRuns,
  spareGraceMs,
  spareRunTtlMs,
} from "../../src/triggers/spare-runs";

/** A maker on an explicit clock: the started run goes quiet `quietMs` later, `make` records its calls. */
function maker(start = 1_000, fail = false, quietMs = 40) {
  const clock = { now: start };
  const made: { runId: string; expiresAt: number }[] = [];
  let quiets = 0;
  let onWait: () => void = () => {};
  const port: SpareMaker = {
    now: () => clock.now,
    quiet: async () => {
      quiets += 1;
      clock.now += quietMs;
      onWait();
    },
    make: async (runId, expiresAt) => {
      if (fail) throw new Error("object not reachable");
      made.push({ runId, expiresAt });
    },
  };
  return { clock, made, quiets: () => quiets, port, duringWait: (run: () => void) => (onWait = run) };
}

describe("SpareRuns", () => {
  it("makes one spare once the started run is quiet, minted then, to expire a grace period after its TTL", async () => {
    const spares = new SpareRuns();
    const { made, quiets, port } = maker(1_000);
    await spares.refill(30_000, port);
    expect(quiets()).toBe(1);
    const mintedAt = 1_000 + 40;
    expect(made).toEqual([{ runId: expect.any(String), expiresAt: mintedAt + 30_000 + spareGraceMs }]);
    expect(isRunId(made[0]?.runId ?? "")).toBe(true);
    expect(spares.take(mintedAt + 10, 30_000)).toEqual({ runId: made[0]?.runId, mintedAt });
    expect(spares.take(mintedAt + 20, 30_000)).toBeUndefined();
  });

  it("gives no spare older than the TTL, and drops it", async () => {
    const spares = new SpareRuns();
    const { port } = maker(0);
    await spares.refill(1_000, port);
    expect(spares.take(40 + 1_000, 1_000)).toBeUndefined();
    expect(spares.take(40 + 1, 1_000)).toBeUndefined();
  });

  it("makes nothing and gives nothing with a TTL of 0", async () => {
    const spares = new SpareRuns();
    const { made, port } = maker();
    await spares.refill(0, port);
    expect(made).toEqual([]);
    await spares.refill(30_000, port);
    expect(spares.take(2_000, 0)).toBeUndefined();
  });

  it("makes one spare at a time, and none while one is ready", async () => {
    const spares = new SpareRuns();
    const { made, port } = maker();
    await Promise.all([spares.refill(30_000, port), spares.refill(30_000, port)]);
    expect(made).toHaveLength(1);
    await spares.refill(30_000, port);
    expect(made).toHaveLength(1);
  });

  it("takes back a spare a duplicate start did not use, and makes none while it is back", async () => {
    const spares = new SpareRuns();
    const { made, port, duringWait } = maker();
    await spares.refill(30_000, port);
    const taken = spares.take(1_100, 30_000);
    expect(taken).toBeDefined();
    // The trigger that took it asked for the next spare, then turned out to be a duplicate.
    duringWait(() => taken && spares.giveBack(taken));
    await spares.refill(30_000, port);
    expect(made).toHaveLength(1);
    expect(spares.take(1_200, 30_000)).toEqual(taken);
  });

  it("keeps no spare when making it fails, and tries again on the next trigger", async () => {
    const spares = new SpareRuns();
    await expect(spares.refill(30_000, maker(0, true).port)).rejects.toThrow("object not reachable");
    expect(spares.take(100, 30_000)).toBeUndefined();
    const { made, port } = maker(200);
    await spares.refill(30_000, port);
    expect(made).toHaveLength(1);
  });
});

describe("spareRunTtlMs", () => {
  it("reads SPARE_RUN_TTL, 30 s when unset or unreadable, 0 when turned off", () => {
    expect(spareRunTtlMs({})).toBe(defaultSpareRunTtlMs);
    expect(defaultSpareRunTtlMs).toBe(30_000);
    expect(spareRunTtlMs({ SPARE_RUN_TTL: "5s" })).toBe(5_000);
    expect(spareRunTtlMs({ SPARE_RUN_TTL: "0s" })).toBe(0);
    expect(spareRunTtlMs({ SPARE_RUN_TTL: "soon" })).toBe(defaultSpareRunTtlMs);
  });
});
