import { describe, expect, it } from "vitest";
import { parseCron } from "../../src/lib/cron";
import { type MissedPolicy, planTicks, scheduleGraceMs } from "../../src/triggers/schedule-plan";

const at = (iso: string) => Date.parse(`2025-01-01T${iso}:00.000Z`);
const times = (ticks: number[]) => ticks.map((tick) => new Date(tick).toISOString().slice(11, 16));

function hourly() {
  const parsed = parseCron("0 * * * *");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.cron;
}

function plan(missed: MissedPolicy, nextAt: string, now: number, catchUpLimit = 10) {
  const result = planTicks(hourly(), undefined, { missed, catchUpLimit }, at(nextAt), now);
  return { fire: times(result.fire), skipped: result.skipped, nextAt: result.nextAt && times([result.nextAt])[0] };
}

describe("planTicks", () => {
  it("does nothing before the next tick", () => {
    expect(plan("skip", "11:00", at("10:30"))).toEqual({ fire: [], skipped: 0, nextAt: "11:00" });
  });

  it.each(["skip", "latest", "all"] as const)("fires a tick that is on time (%s)", (missed) => {
    expect(plan(missed, "10:00", at("10:00"))).toEqual({ fire: ["10:00"], skipped: 0, nextAt: "11:00" });
    // Alarms run a little late; within the grace period the tick is still on time.
    expect(plan(missed, "10:00", at("10:00") + scheduleGraceMs)).toEqual({
      fire: ["10:00"],
      skipped: 0,
      nextAt: "11:00",
    });
  });

  describe("after three and a half hours of downtime", () => {
    const now = at("13:30");

    it("skip drops every late tick", () => {
      expect(plan("skip", "10:00", now)).toEqual({ fire: [], skipped: 4, nextAt: "14:00" });
    });

    it("skip still fires the newest tick when it is within the grace period", () => {
      expect(plan("skip", "10:00", at("13:01"))).toEqual({ fire: ["13:00"], skipped: 3, nextAt: "14:00" });
    });

    it("latest fires only the newest", () => {
      expect(plan("latest", "10:00", now)).toEqual({ fire: ["13:00"], skipped: 3, nextAt: "14:00" });
    });

    it("all catches up on every tick, oldest first", () => {
      expect(plan("all", "10:00", now)).toEqual({
        fire: ["10:00", "11:00", "12:00", "13:00"],
        skipped: 0,
        nextAt: "14:00",
      });
    });

    it("all is bounded by catchUpLimit, keeping the newest", () => {
      expect(plan("all", "10:00", now, 2)).toEqual({ fire: ["12:00", "13:00"], skipped: 2, nextAt: "14:00" });
    });
  });

  it("never looks before nextAt", () => {
    expect(plan("all", "12:00", at("13:30"))).toEqual({ fire: ["12:00", "13:00"], skipped: 0, nextAt: "14:00" });
  });

  it("counts a long outage's skipped ticks up to a bound", () => {
    const parsed = parseCron("* * * * *");
    if (!parsed.ok) throw new Error(parsed.error);
    const result = planTicks(parsed.cron, undefined, { missed: "skip", catchUpLimit: 10 }, at("00:00"), at("23:00"));
    // The ticks within the grace period are on time; everything older is dropped.
    expect(times(result.fire)).toEqual(["22:58", "22:59", "23:00"]);
    expect(result.skipped).toBe(1000);
  });
});
