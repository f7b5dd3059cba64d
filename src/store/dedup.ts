import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "./db";
import { dedupKeys } from "./schema";

/**
 * Claims a trigger's dedup key for a new run in one statement. D1 runs statements one at a
 * time, so of two concurrent identical requests exactly one claims the key; the other reads
 * the winner's run id. An expired claim is taken over.
 */
export async function claimDedupKey(
  db: Database,
  claim: { workflowId: string; key: string; runId: string; now: number; windowMs: number },
): Promise<{ claimed: true } | { claimed: false; runId: string }> {
  const claimed = await db
    .insert(dedupKeys)
    .values({ workflowId: claim.workflowId, key: claim.key, runId: claim.runId, expiresAt: claim.now + claim.windowMs })
    .onConflictDoUpdate({
      target: [dedupKeys.workflowId, dedupKeys.key],
      set: { runId: claim.runId, expiresAt: claim.now + claim.windowMs },
      setWhere: sql`${dedupKeys.expiresAt} <= ${claim.now}`,
    })
    .returning({ runId: dedupKeys.runId })
    .get();
  if (claimed?.runId === claim.runId) return { claimed: true };
  const existing = await db
    .select({ runId: dedupKeys.runId })
    .from(dedupKeys)
    .where(and(eq(dedupKeys.workflowId, claim.workflowId), eq(dedupKeys.key, claim.key)))
    .get();
  return { claimed: false, runId: existing?.runId ?? claim.runId };
}

/**
 * Gives a claimed key back when the run it was claimed for could not be started, so the
 * sender's retry claims it again. Only this run's claim goes: a later claimant's stays.
 */
export async function releaseDedupKey(
  db: Database,
  claim: { workflowId: string; key: string; runId: string },
): Promise<void> {
  await db
    .delete(dedupKeys)
    .where(
      and(eq(dedupKeys.workflowId, claim.workflowId), eq(dedupKeys.key, claim.key), eq(dedupKeys.runId, claim.runId)),
    );
}

/** Points this run's claim at another run (a debounced trigger's window run): a repeat answers that run. */
export async function repointDedupKey(
  db: Database,
  claim: { workflowId: string; key: string; from: string; to: string },
): Promise<void> {
  await db
    .update(dedupKeys)
    .set({ runId: claim.to })
    .where(
      and(eq(dedupKeys.workflowId, claim.workflowId), eq(dedupKeys.key, claim.key), eq(dedupKeys.runId, claim.from)),
    );
}

export async function deleteExpiredDedupKeys(db: Database, now: number): Promise<void> {
  await db.delete(dedupKeys).where(lt(dedupKeys.expiresAt, now));
}
