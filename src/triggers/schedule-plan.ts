import {
  defaultCatchUpLimit,
  type MissedPolicy,
  maxCatchUpLimit,
  missedPolicies,
} from "../definition/schedule-settings";
import { type Cron, nextTick, previousTick } from "../lib/cron";

export { defaultCatchUpLimit, type MissedPolicy, maxCatchUpLimit, missedPolicies };

/** A tick this late still counts as on time: alarms run a little late, the watchdog up to a minute. */
export const scheduleGraceMs = 2 * 60_000;
/** Skipped ticks are counted for the log, up to this many. */
const countLimit = 1_000;

export interface SchedulePolicy {
  missed: MissedPolicy;
  catchUpLimit: number;
}

export interface TickPlan {
  /** Ticks to fire now, oldest first. */
  fire: number[];
  /** Due ticks that are dropped (counted up to 1,000). */
  skipped: number;
  /** The first tick after `now`; undefined when the cron never fires again. */
  nextAt: number | undefined;
}

/**
 * Decides which ticks fire when a schedule wakes at `now` with `nextAt` the earliest tick not
 * yet handled. Pure: the clock is a parameter, so catch-up after any downtime is testable.
 */
export function planTicks(
  cron: Cron,
  zone: string | undefined,
  policy: SchedulePolicy,
  nextAt: number,
  now: number,
): TickPlan {
  if (nextAt > now) return { fire: [], skipped: 0, nextAt };
  const limit = policy.missed === "all" ? Math.max(1, policy.catchUpLimit) : policy.missed === "latest" ? 1 : Infinity;
  // Walk back from now: the newest due ticks are the ones every policy keeps.
  const due: number[] = [];
  let tick = previousTick(cron, zone, now);
  while (tick !== undefined && tick >= nextAt && due.length < limit) {
    if (policy.missed === "skip" && now - tick > scheduleGraceMs) break;
    due.push(tick);
    tick = previousTick(cron, zone, tick - 1);
  }
  const fire = due.reverse();
  const oldestFired = fire[0];
  return {
    fire,
    skipped: countTicks(cron, zone, nextAt, oldestFired === undefined ? now : oldestFired - 1),
    nextAt: nextTick(cron, zone, now),
  };
}

/** Ticks in [from, to], counted up to `countLimit`. */
function countTicks(cron: Cron, zone: string | undefined, from: number, to: number): number {
  let count = 0;
  let tick = nextTick(cron, zone, from - 1);
  while (tick !== undefined && tick <= to && count < countLimit) {
    count++;
    tick = nextTick(cron, zone, tick);
  }
  return count;
}
