import type { Env } from "../env";
import { database } from "../store/db";
import { deleteExpiredDedupKeys } from "../store/dedup";
import { deleteOldRejections } from "../store/email";
import { staleActiveRuns } from "../store/runs";
import { sweepRetention } from "./retention";
import { reconcileSchedules } from "./schedules";
import { runStub } from "./start-run";

const staleAfterMs = 2 * 60_000;
/** Refused messages are kept a month: long enough to answer "why did my invoice bounce?". */
const rejectionRetentionMs = 30 * 24 * 3_600_000;

/**
 * Runs every minute from the cron trigger. Each run keeps its own alarm, so this only catches
 * what fell through: runs whose checkpoints went quiet are poked (which re-arms their alarm and
 * resumes interrupted work), expired dedup keys and month-old email rejections are dropped, and schedules whose alarm went
 * missing or that missed a new version are caught up (src/triggers/schedules.ts), and ended runs
 * and audit entries past their retention are deleted (src/triggers/retention.ts).
 */
export async function watchdog(
  env: Env,
  now: number,
): Promise<{ poked: number; ensured: number; retention: Awaited<ReturnType<typeof sweepRetention>> }> {
  const db = database(env.DB);
  const stale = await staleActiveRuns(db, now - staleAfterMs, 100);
  await Promise.all(stale.map((run) => runStub(env, run.id).poke()));
  await deleteExpiredDedupKeys(db, now);
  await deleteOldRejections(db, now - rejectionRetentionMs);
  const { ensured } = await reconcileSchedules(env, now);
  const retention = await sweepRetention(env, now);
  return { poked: stale.length, ensured, retention };
}
