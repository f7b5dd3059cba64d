import { describe, expect, it } from "vitest";
import { rateOf, take } from "../../src/flow/gcra";

/** Starts allowed at each of `times`, carrying the bucket from one to the next. */
function starts(rate: ReturnType<typeof rateOf>, times: number[]): (number | string)[] {
  let tat = 0;
  return times.map((now) => {
    const result = take(rate, tat, now);
    tat = result.tat;
    return result.ok ? now : `wait until ${result.retryAt}`;
  });
}

describe("GCRA", () => {
  it("spaces starts one emission apart without a burst", () => {
    expect(starts(rateOf(2, 1_000), [0, 100, 500, 900, 1_000])).toEqual([
      0,
      "wait until 500",
      500,
      "wait until 1000",
      1_000,
    ]);
  });

  it("lets `burst` starts through at once after a quiet spell, then spaces them", () => {
    expect(starts(rateOf(10, 1_000, 3), [5_000, 5_000, 5_000, 5_000, 5_100, 5_200])).toEqual([
      5_000,
      5_000,
      5_000,
      "wait until 5100",
      5_100,
      5_200,
    ]);
  });

  it("allows `limit` per period as a rate limit (burst = limit)", () => {
    const allowed = starts(rateOf(3, 60_000, 3), [0, 1, 2, 3, 19_999, 20_000]).filter((at) => typeof at === "number");
    expect(allowed).toEqual([0, 1, 2, 20_000]);
  });
});
