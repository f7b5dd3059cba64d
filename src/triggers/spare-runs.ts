import type { Env } from "../env";
import { parseDuration } from "../lib/duration";
import { sortableId } from "../lib/ids";

/** How long a spare may wait for a trigger; the id's time is its minting, so this bounds the skew. */
export const defaultSpareRunTtlMs = 30_000;
/**
 * The longest the next spare waits for the run its trigger started to go quiet. Creating an
 * object (its SQLite file, the first commit) takes the runtime's thread for a few milliseconds;
 * made while that run is busy, it lands on that run's steps.
 */
export const spareQuietMaxMs = 1_000;
/** A spare nobody took deletes itself this long after its TTL ran out (its own alarm). */
export const spareGraceMs = 60_000;

export interface SpareRun {
  runId: string;
  mintedAt: number;
}

export interface SpareMaker {
  now(): number;
  /** Resolves when the run the trigger started has nothing in flight (or after `spareQuietMaxMs`). */
  quiet(): Promise<void>;
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
  private making: Promise<void> | undefined;

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

  /** Makes the next spare once the trigger's run is quiet, unless one is ready or on its way. */
  refill(ttlMs: number, maker: SpareMaker): Promise<void> {
    if (ttlMs <= 0 || this.spare || this.making) return this.making ?? Promise.resolve();
    const making = this.makeOne(ttlMs, maker).finally(() => {
      this.making = undefined;
    });
    this.making = making;
    return making;
  }

  /** Resolves when the spare on its way (if any) is ready or has failed (tests). */
  async settled(): Promise<void> {
    await this.making?.catch(() => {});
  }

  private async makeOne(ttlMs: number, maker: SpareMaker): Promise<void> {
    await maker.quiet();
    if (this.spare) return;
    const mintedAt = maker.now();
    const runId = sortableId("run", mintedAt);
    await maker.make(runId, mintedAt + ttlMs + spareGraceMs);
    this.spare ??= { runId, mintedAt };
  }
}

export const isolateSpares = new SpareRuns();

/** SPARE_RUN_TTL (a duration; "0s" turns spares off), 30 s when unset or unreadable. */
export function spareRunTtlMs(env: Pick<Env, "SPARE_RUN_TTL">): number {
  return parseDuration(env.SPARE_RUN_TTL ?? "") ?? defaultSpareRunTtlMs;
}
