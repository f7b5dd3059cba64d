import { describe, expect, it } from "vitest";
import { type Cron, checkSchedule, nextTick, parseCron, previousTick } from "../../src/lib/cron";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function cron(source: string): Cron {
  const parsed = parseCron(source);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.cron;
}

/** The next `count` ticks after `from`, as ISO strings. */
function ticks(source: string, from: string, count = 3, zone?: string): (string | undefined)[] {
  const compiled = cron(source);
  const out: (string | undefined)[] = [];
  let cursor = at(from);
  for (let index = 0; index < count; index++) {
    const next = nextTick(compiled, zone, cursor);
    out.push(iso(next));
    if (next === undefined) break;
    cursor = next;
  }
  return out;
}

// 2025-01-01 is a Wednesday.
const newYear = "2025-01-01T00:00:00.000Z";

describe("Cloudflare's documented cron examples", () => {
  it.each([
    ["* * * * *", ["2025-01-01T00:01:00.000Z", "2025-01-01T00:02:00.000Z", "2025-01-01T00:03:00.000Z"]],
    ["*/30 * * * *", ["2025-01-01T00:30:00.000Z", "2025-01-01T01:00:00.000Z", "2025-01-01T01:30:00.000Z"]],
    ["*/3 * * * *", ["2025-01-01T00:03:00.000Z", "2025-01-01T00:06:00.000Z", "2025-01-01T00:09:00.000Z"]],
    ["45 * * * *", ["2025-01-01T00:45:00.000Z", "2025-01-01T01:45:00.000Z", "2025-01-01T02:45:00.000Z"]],
    // 5PM on Sunday: weekday 1 is Sunday in Cloudflare's numbering.
    ["0 17 * * sun", ["2025-01-05T17:00:00.000Z", "2025-01-12T17:00:00.000Z", "2025-01-19T17:00:00.000Z"]],
    ["0 17 * * 1", ["2025-01-05T17:00:00.000Z", "2025-01-12T17:00:00.000Z", "2025-01-19T17:00:00.000Z"]],
    // 7:10AM on weekdays.
    ["10 7 * * mon-fri", ["2025-01-01T07:10:00.000Z", "2025-01-02T07:10:00.000Z", "2025-01-03T07:10:00.000Z"]],
    ["10 7 * * 2-6", ["2025-01-01T07:10:00.000Z", "2025-01-02T07:10:00.000Z", "2025-01-03T07:10:00.000Z"]],
    // 3PM on the first day of the month.
    ["0 15 1 * *", ["2025-01-01T15:00:00.000Z", "2025-02-01T15:00:00.000Z", "2025-03-01T15:00:00.000Z"]],
    // 6PM on the last Friday of the month.
    ["0 18 * * 6L", ["2025-01-31T18:00:00.000Z", "2025-02-28T18:00:00.000Z", "2025-03-28T18:00:00.000Z"]],
    ["0 18 * * friL", ["2025-01-31T18:00:00.000Z", "2025-02-28T18:00:00.000Z", "2025-03-28T18:00:00.000Z"]],
    // 11:59PM on the last weekday of the month (May 31 2025 is a Saturday).
    ["59 23 LW * *", ["2025-01-31T23:59:00.000Z", "2025-02-28T23:59:00.000Z", "2025-03-31T23:59:00.000Z"]],
  ])("%s", (source, expected) => {
    expect(ticks(source, newYear)).toEqual(expected);
  });

  it("skips weekends for mon-fri", () => {
    expect(ticks("10 7 * * mon-fri", "2025-01-03T08:00:00.000Z", 2)).toEqual([
      "2025-01-06T07:10:00.000Z",
      "2025-01-07T07:10:00.000Z",
    ]);
  });

  it("moves LW back from a weekend to Friday", () => {
    expect(ticks("59 23 LW * *", "2025-05-01T00:00:00.000Z", 1)).toEqual(["2025-05-30T23:59:00.000Z"]);
    expect(ticks("59 23 LW * *", "2025-08-01T00:00:00.000Z", 1)).toEqual(["2025-08-29T23:59:00.000Z"]);
  });

  it("rejects the hour-59 typo an older version of the docs printed (23 59 LW * *)", () => {
    expect(parseCron("23 59 LW * *")).toMatchObject({ ok: false, error: expect.stringContaining("hour") });
  });
});

describe("cron field syntax", () => {
  it.each([
    ["0 0 L * *", "2024-02-01T00:00:00.000Z", "2024-02-29T00:00:00.000Z"],
    ["0 0 L * *", "2025-02-01T00:00:00.000Z", "2025-02-28T00:00:00.000Z"],
    ["0 0 L-3 * *", newYear, "2025-01-28T00:00:00.000Z"],
    // May 2025: L-1 is Fri the 30th; L-6 is Sun the 25th, whose nearest weekday is Mon the 26th.
    ["0 0 L-1W * *", "2025-05-01T00:00:00.000Z", "2025-05-30T00:00:00.000Z"],
    ["0 0 L-6W * *", "2025-05-01T00:00:00.000Z", "2025-05-26T00:00:00.000Z"],
    // 1 Jan 2022 is a Saturday: W does not leave the month, so Monday the 3rd.
    ["0 0 1W * *", "2021-12-15T00:00:00.000Z", "2022-01-03T00:00:00.000Z"],
    // 15 June 2025 is a Sunday: Monday the 16th. 31 Aug 2025 is a Sunday and the last day: Friday the 29th.
    ["0 0 15W * *", "2025-06-01T00:00:00.000Z", "2025-06-16T00:00:00.000Z"],
    ["0 0 31W * *", "2025-08-01T00:00:00.000Z", "2025-08-29T00:00:00.000Z"],
    // A month without the day has no nearest weekday to it.
    ["0 0 31W * *", "2025-09-01T00:00:00.000Z", "2025-10-31T00:00:00.000Z"],
    ["0 12 * * 2#1", newYear, "2025-01-06T12:00:00.000Z"],
    ["0 12 * * mon#2", newYear, "2025-01-13T12:00:00.000Z"],
    // A lone L in day-of-week is Saturday.
    ["0 12 * * L", newYear, "2025-01-04T12:00:00.000Z"],
    ["0 0 1 jan,JUL *", "2025-02-01T00:00:00.000Z", "2025-07-01T00:00:00.000Z"],
    ["0 0 * * MON,wed", "2025-01-02T00:00:00.000Z", "2025-01-06T00:00:00.000Z"],
    ["5/20 * * * *", newYear, "2025-01-01T00:05:00.000Z"],
    ["0 */6 * * *", "2025-01-01T00:30:00.000Z", "2025-01-01T06:00:00.000Z"],
    ["0 0 1 */4 *", "2025-01-02T00:00:00.000Z", "2025-05-01T00:00:00.000Z"],
    ["15-45/10 * * * *", "2025-01-01T00:36:00.000Z", "2025-01-01T00:45:00.000Z"],
    ["0 0 29 2 *", "2025-03-01T00:00:00.000Z", "2028-02-29T00:00:00.000Z"],
  ])("%s after %s is %s", (source, from, expected) => {
    expect(ticks(source, from, 1)).toEqual([expected]);
  });

  it("finds the fifth Friday only in months that have one", () => {
    expect(ticks("0 12 * * 6#5", newYear, 2)).toEqual(["2025-01-31T12:00:00.000Z", "2025-05-30T12:00:00.000Z"]);
  });

  it("wraps ranges that run past the end of the field", () => {
    expect(ticks("0 12 * * FRI-SUN", newYear)).toEqual([
      "2025-01-03T12:00:00.000Z",
      "2025-01-04T12:00:00.000Z",
      "2025-01-05T12:00:00.000Z",
    ]);
    expect(ticks("50-10 * * * *", "2025-01-01T00:11:00.000Z", 2)).toEqual([
      "2025-01-01T00:50:00.000Z",
      "2025-01-01T00:51:00.000Z",
    ]);
    // 22-1 wraps to 22, 23, 0, 1; every second of them is 22 and 0.
    expect(ticks("0 22-1/2 * * *", newYear, 3)).toEqual([
      "2025-01-01T22:00:00.000Z",
      "2025-01-02T00:00:00.000Z",
      "2025-01-02T22:00:00.000Z",
    ]);
  });

  it("fires on either day field when both are restricted", () => {
    // The 13th, or any Friday (weekday 6).
    expect(ticks("0 0 13 * 6", newYear, 4)).toEqual([
      "2025-01-03T00:00:00.000Z",
      "2025-01-10T00:00:00.000Z",
      "2025-01-13T00:00:00.000Z",
      "2025-01-17T00:00:00.000Z",
    ]);
  });

  it("treats */1 as a restriction, so the other day field still ORs with it", () => {
    // Thursday and Friday: every day of the month, or Sundays.
    expect(ticks("0 0 */1 * 1", newYear, 2)).toEqual(["2025-01-02T00:00:00.000Z", "2025-01-03T00:00:00.000Z"]);
  });

  it.each([
    ["* * * *", "expected 5 fields"],
    ["* * * * * *", "expected 5 fields"],
    ["", "expected 5 fields"],
    ["60 * * * *", "minute value 60"],
    ["* 24 * * *", "hour value 24"],
    ["* * 0 * *", "day-of-month value 0"],
    ["* * 32 * *", "day-of-month value 32"],
    ["* * * 13 *", "month value 13"],
    ["* * * * 0", "1 = Sunday"],
    ["* * * * 8", "1 = Sunday"],
    ["* * * * SUNDAY", "not a value"],
    ["0 0 ? * *", "not a value"],
    ["*/0 * * * *", "step 0"],
    ["*/60 * * * *", "step 60"],
    ["* * * * */7", "step 7"],
    ["*,5 * * * *", "cannot be part of a list"],
    ["0 0 L,5 * *", "mixes L or W"],
    ["0 0 L-31 * *", "offset from 1 to 30"],
    ["0 0 32W * *", "day-of-month value 32"],
    ["0 0 * * 2#6", "from 1 to 5"],
    ["0 0 * * 2L,3", "not a value"],
    ["1-2-3 * * * *", "not a value, range or step"],
  ])("rejects %j (%s)", (source, message) => {
    const parsed = parseCron(source);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });

  it("accepts surrounding and repeated whitespace", () => {
    expect(ticks("  0   12 * *  * ", newYear, 1)).toEqual(["2025-01-01T12:00:00.000Z"]);
  });
});

describe("previousTick", () => {
  it("returns the tick at or before a time", () => {
    const hourly = cron("0 * * * *");
    expect(iso(previousTick(hourly, undefined, at("2025-01-01T10:00:00.000Z")))).toBe("2025-01-01T10:00:00.000Z");
    expect(iso(previousTick(hourly, undefined, at("2025-01-01T10:59:59.999Z")))).toBe("2025-01-01T10:00:00.000Z");
    expect(iso(previousTick(cron("0 18 * * 6L"), undefined, at("2025-03-01T00:00:00.000Z")))).toBe(
      "2025-02-28T18:00:00.000Z",
    );
  });

  it("walks back across days, months and years", () => {
    expect(iso(previousTick(cron("0 0 29 2 *"), undefined, at("2027-01-01T00:00:00.000Z")))).toBe(
      "2024-02-29T00:00:00.000Z",
    );
  });

  it("agrees with nextTick", () => {
    for (const source of ["*/7 3-5 * * *", "0 18 * * friL", "59 23 LW * *", "0 0 13 * 6", "30 2 * * *"]) {
      const compiled = cron(source);
      let cursor = at("2025-01-01T00:00:00.000Z");
      for (let index = 0; index < 20; index++) {
        const next = nextTick(compiled, "America/New_York", cursor) as number;
        expect(previousTick(compiled, "America/New_York", next)).toBe(next);
        expect(previousTick(compiled, "America/New_York", next - 1)).toBeLessThanOrEqual(cursor);
        cursor = next;
      }
    }
  });
});

describe("time zones", () => {
  it("reads the fields in the zone's wall-clock time", () => {
    expect(ticks("0 9 * * *", newYear, 1, "America/New_York")).toEqual(["2025-01-01T14:00:00.000Z"]);
    expect(ticks("0 9 * * *", "2025-07-01T00:00:00.000Z", 1, "America/New_York")).toEqual(["2025-07-01T13:00:00.000Z"]);
    expect(ticks("0 9 * * *", newYear, 1, "Asia/Kolkata")).toEqual(["2025-01-01T03:30:00.000Z"]);
    // Monday 00:30 in Auckland is still Sunday in UTC.
    expect(ticks("30 0 * * mon", newYear, 1, "Pacific/Auckland")).toEqual(["2025-01-05T11:30:00.000Z"]);
  });

  it("fires a tick in a skipped hour once, at the same offset after the gap", () => {
    // 9 March 2025: New York's clocks go from 02:00 EST to 03:00 EDT.
    expect(ticks("30 2 * * *", "2025-03-08T12:00:00.000Z", 2, "America/New_York")).toEqual([
      "2025-03-09T07:30:00.000Z",
      "2025-03-10T06:30:00.000Z",
    ]);
    expect(ticks("*/15 * * * *", "2025-03-09T06:40:00.000Z", 6, "America/New_York")).toEqual([
      "2025-03-09T06:45:00.000Z",
      "2025-03-09T07:00:00.000Z",
      "2025-03-09T07:15:00.000Z",
      "2025-03-09T07:30:00.000Z",
      "2025-03-09T07:45:00.000Z",
      "2025-03-09T08:00:00.000Z",
    ]);
  });

  it("fires a tick in a repeated hour once, at its first occurrence", () => {
    // 2 November 2025: New York's clocks go from 02:00 EDT back to 01:00 EST.
    expect(ticks("30 1 * * *", "2025-11-01T12:00:00.000Z", 2, "America/New_York")).toEqual([
      "2025-11-02T05:30:00.000Z",
      "2025-11-03T06:30:00.000Z",
    ]);
  });
});

describe("checkSchedule", () => {
  it("accepts a valid schedule and zone", () => {
    expect(checkSchedule("0 9 * * mon-fri", "Europe/Berlin")).toBeUndefined();
    expect(checkSchedule("0 0 29 2 *")).toBeUndefined();
  });

  it("names what is wrong", () => {
    expect(checkSchedule("0 9 * *")).toMatchObject({ code: "cron" });
    expect(checkSchedule("0 9 * * *", "Mars/Olympus_Mons")).toMatchObject({ code: "timezone" });
    expect(checkSchedule("0 0 30 2 *")).toMatchObject({ code: "cron", message: expect.stringContaining("never") });
  });
});
