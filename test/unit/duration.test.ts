import { describe, expect, it } from "vitest";
import { isDuration, parseDuration } from "../../src/lib/duration";

describe("parseDuration", () => {
  it.each([
    ["0ms", 0],
    ["500ms", 500],
    ["30s", 30_000],
    ["1.5s", 1_500],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    [" 10s ", 10_000],
    ["0.0004s", 0],
  ])("%j is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(isDuration(text)).toBe(true);
  });

  it.each(["", "5", "s", "5 s", "-1s", "1w", "1.s", ".5s", "5S", "1h30m", "1e3ms", "soon"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
    expect(isDuration(text)).toBe(false);
  });
});
