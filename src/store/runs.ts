import { and, desc, eq, inArray, lt, or, type SQL } from "drizzle-orm";
import type { Database } from "./db";
import { runs } from "./schema";

export interface RunFilter {
  workflowId?: string | undefined;
  /** Only runs of these workflows (a key limited to them); an empty list matches none. */
  workflowIds?: readonly string[] | undefined;
  status?: string | undefined;
  /** Child runs of this run (map items, loop iterations, subworkflow calls). */
  parentRunId?: string | undefined;
  limit: number;
  cursor?: { createdAt: number; id: string } | undefined;
}

export function encodeCursor(createdAt: number, id: string): string {
  return btoa(`${createdAt}:${id}`).replaceAll("=", "");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | undefined {
  try {
    const [time, id] = atob(cursor).split(":");
    const createdAt = Number(time);
    return Number.isSafeInteger(createdAt) && id ? { createdAt, id } : undefined;
  } catch {
    return undefined;
  }
}

/** Newest first, keyset-paginated on (created_at, id) so pages never skip or repeat a run. */
export async function listRuns(db: Database, filter: RunFilter) {
  const conditions: SQL[] = [];
  if (filter.workflowId) conditions.push(eq(runs.workflowId, filter.workflowId));
  if (filter.workflowIds) conditions.push(inArray(runs.workflowId, [...filter.workflowIds]));
  if (filter.status) conditions.push(eq(runs.status, filter.status));
  if (filter.parentRunId) conditions.push(eq(runs.parentRunId, filter.parentRunId));
  if (filter.cursor) {
    const { createdAt, id } = filter.cursor;
    const older = or(lt(runs.createdAt, createdAt), and(eq(runs.createdAt, createdAt), lt(runs.id, id)));
    if (older) conditions.push(older);
  }
  const rows = await db
    .select()
    .from(runs)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(filter.limit + 1)
    .all();
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    runs: page.map((row) => ({
      runId: row.id,
      workflowId: row.workflowId,
      version: row.version,
      status: row.status,
      trigger: row.triggerType,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      startedAt: row.startedAt,
      endedAt: row.endedAt,
      error: row.error ? (JSON.parse(row.error) as unknown) : null,
      parentRunId: row.parentRunId,
    })),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** Runs that should be moving but have not checkpointed lately: the watchdog pokes them. */
export async function staleActiveRuns(db: Database, updatedBefore: number, limit: number) {
  return db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        lt(runs.updatedAt, updatedBefore),
        or(eq(runs.status, "running"), eq(runs.status, "pending"), eq(runs.status, "waiting")),
      ),
    )
    .orderBy(runs.updatedAt)
    .limit(limit)
    .all();
}
