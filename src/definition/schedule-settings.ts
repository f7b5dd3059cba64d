/**
 * What happens to ticks that came due while nothing could fire them (the Worker was down,
 * the alarm was lost and the watchdog found it late):
 * - `skip` fires only ticks that are on time (within the grace period) and drops the rest;
 * - `latest` fires the most recent due tick, late or not, and drops the older ones;
 * - `all` fires every due tick, oldest first, but at most `catchUpLimit` of the most recent.
 */
export type MissedPolicy = "skip" | "latest" | "all";

export const missedPolicies = ["skip", "latest", "all"] as const satisfies readonly MissedPolicy[];
export const defaultCatchUpLimit = 10;
export const maxCatchUpLimit = 100;
