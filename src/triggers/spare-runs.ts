import type { Env } from "../env";
import { parseDuration } from "../lib/duration";
import { sortableId } from "../lib/ids";

/** How long a spare may wait for a trigger; the id's time is its minting, so this bounds the skew. */
export const defaultSpareRunTtlMs = 30_000;
/**
 * How long after a trigger its isolate waits before making the next spare. Creating an object
 * (its SQLite file, the first commit) takes the runtime's thread for a few milliseconds; made at
 * once, it lands on the first step of the run the trigger just started (measured: 5 ms was not
 * enough, 25 ms was).
 */
export const spareDelayMs = 25;
/** A spare nobody took deletes itself this long after its TTL ran out (its own alarm). */
export const spareGraceMs = 60_000;

export interface SpareRun {
  runId: string;
  mintedAt: number;
}

export interface SpareMaker {
  now(): number;
  wait(ms: number): Promise<void>;
  /** Creates the run object for `runId`, set to delete itself at `expiresAt` unless a run starts. */
  make(runId: string, expiresAt: number): Promise<void>;
}

/**
 * One run object made ready, per isolate, before the trigger that will use it. Creating the run's
 * Durable Object was most of the time from a trigger to the first step; a spare moves that off
 * the path. The spare's id is minted when it is made: its time part can be up to the TTL older
 * than the run's `createdAt`.
 */
export class SpareRuns {
  private spare: SpareRun | undefined;
  private making = false;

  /** The spare, if one is ready and was minted less than `ttlMs` before `now`; it leaves the pool. */
  take(now: number, ttlMs: number): SpareRun | undefined {
    const spare = this.spare;
    this.spare = undefined;
    if (!spare || ttlMs <= 0 || now < spare.mintedAt || now - spare.mintedAt >= ttlMs) return undefined;
    return spare;
  }

  /** A spare taken for a start that turned out to be a duplicate: ready again, unless another is. */
  giveBack(spare: SpareRun): void {
    this.spare ??= spare;
  }

  /** Makes the next spare, unless one is ready or on its way. */
  async refill(ttlMs: number, maker: SpareMaker): Promise<void> {
    if (ttlMs <= 0 || this.spare || this.making) return;
    this.making = true;
    try {
      await maker.wait(spareDelayMs);
      if (this.spare) return;
      const mintedAt = maker.now();
      const runId = sortableId("run", mintedAt);
      await maker.make(runId, mintedAt + ttlMs + spareGraceMs);
      this.spare ??= { runId, mintedAt };
    } finally {
      this.making = false;
    }
  }
}

export const isolateSpares = new SpareRuns();

/** SPARE_RUN_TTL (a duration; "0s" turns spares off), 30 s when unset or unreadable. */
export function spareRunTtlMs(env: Pick<Env, "SPARE_RUN_TTL">): number {
  return parseDuration(env.SPARE_RUN_TTL ?? "") ?? defaultSpareRunTtlMs;
}
