import { descendantRange } from "../lib/ids";

/**
 * Removes a deleted run's rows, and its child runs' (an id range the indexes answer), from D1 in
 * one batch. The operators' audit trail (`run_operations`) is kept, and records the deletion.
 */
const tables = [
  ["runs", "id"],
  ["steps", "run_id"],
  ["context_versions", "run_id"],
  ["approvals", "run_id"],
  ["approval_audit", "run_id"],
  ["email_outbox", "run_id"],
  ["dedup_keys", "run_id"],
] as const;

export type DeletedRows = Record<(typeof tables)[number][0], number>;

export async function deleteRunRows(d1: D1Database, runId: string): Promise<DeletedRows> {
  // D1's `changes` counts what triggers did too (deleting a run also moves its `run_counts`
  // row), so the runs deleted are counted from what the statement returns.
  const results = await d1.batch<{ gone: number }>(
    tables.map(([table, column]) =>
      d1
        .prepare(
          `DELETE FROM ${table} WHERE ${column} = ?1 OR (${column} > ?2 AND ${column} < ?3)${table === "runs" ? " RETURNING 1 AS gone" : ""}`,
        )
        .bind(runId, ...descendantRange(runId)),
    ),
  );
  const counts = {} as DeletedRows;
  tables.forEach(([table], index) => {
    const result = results[index];
    counts[table] = table === "runs" ? (result?.results.length ?? 0) : (result?.meta.changes ?? 0);
  });
  return counts;
}

/** Whether D1 still knows the run (an earlier delete may have stopped after the object's part). */
export async function runRowExists(d1: D1Database, runId: string): Promise<boolean> {
  return (await d1.prepare("SELECT 1 AS found FROM runs WHERE id = ?").bind(runId).first()) !== null;
}

// ---- retention ------------------------------------------------------------------------------

/** The query the watchdog's sweep runs (its plan is checked in the tests: the partial index). */
export const expiredRunsQuery = `SELECT id, workflow_id, delete_after FROM runs
  WHERE delete_after IS NOT NULL AND held_at IS NULL AND delete_after <= ?1
  ORDER BY delete_after, id LIMIT ?2`;

/** Ended runs whose retention has run out and that no hold keeps, the longest overdue first. */
export async function expiredRuns(d1: D1Database, now: number, limit: number) {
  const { results } = await d1
    .prepare(expiredRunsQuery)
    .bind(now, limit)
    .all<{ id: string; workflow_id: string; delete_after: number }>();
  return results.map((row) => ({ runId: row.id, workflowId: row.workflow_id, deleteAfter: row.delete_after }));
}

/** A run the sweep could not delete waits until `until` before it is tried again. */
export async function postponeDeletion(d1: D1Database, runId: string, until: number): Promise<void> {
  await d1
    .prepare("UPDATE runs SET delete_after = ?2 WHERE id = ?1 AND delete_after IS NOT NULL")
    .bind(runId, until)
    .run();
}

/** Puts a hold on the run (or lifts it: `at` null); false when D1 does not know the run. */
export async function setHold(d1: D1Database, runId: string, at: number | null): Promise<boolean> {
  const result = await d1
    .prepare("UPDATE runs SET held_at = CASE WHEN ?2 IS NULL THEN NULL ELSE coalesce(held_at, ?2) END WHERE id = ?1")
    .bind(runId, at)
    .run();
  return (result.meta.changes ?? 0) > 0;
}

/** The run's retention as D1 holds it; undefined when D1 does not know the run yet. */
export async function retentionOf(d1: D1Database, runId: string) {
  const row = await d1
    .prepare("SELECT delete_after, held_at FROM runs WHERE id = ?1")
    .bind(runId)
    .first<{ delete_after: number | null; held_at: number | null }>();
  return row ? { deleteAfter: row.held_at === null ? row.delete_after : null, heldAt: row.held_at } : undefined;
}
