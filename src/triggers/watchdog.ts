import type { Env } from "../env";
import { database } from "../store/db";
import { deleteExpiredDedupKeys } from "../store/dedup";
import { staleActiveRuns } from "../store/runs";
import { reconcileSchedules } from "./schedules";
import { runStub } from "./start-run";

const staleAfterMs = 2 * 60_000;

/**
 * Runs every minute from the cron trigger. Each run keeps its own alarm, so this only catches
 * what fell through: runs whose checkpoints went quiet are poked (which re-arms their alarm and
 * resumes interrupted work), expired dedup keys are dropped, and schedules whose alarm went
 * missing or that missed a new version are caught up (src/triggers/schedules.ts).
 */
export async function watchdog(env: Env, now: number): Promise<{ poked: number; ensured: number }> {
  const db = database(env.DB);
  const stale = await staleActiveRuns(db, now - staleAfterMs, 100);
  await Promise.all(stale.map((run) => runStub(env, run.id).poke()));
  await deleteExpiredDedupKeys(db, now);
  const { ensured } = await reconcileSchedules(env, now);
  return { poked: stale.length, ensured };
}
