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
