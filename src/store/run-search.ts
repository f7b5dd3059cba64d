import { and, count, desc, eq, gt, gte, lt, lte, or, type SQL, sum } from "drizzle-orm";
import type { Database } from "./db";
import { encodeCursor } from "./runs";
import { runCounts, runs } from "./schema";

/** The dashboard's run search: `listRuns`' filters plus time range, error code and run id prefix. */
export interface RunSearch {
  workflowId?: string | undefined;
  status?: string | undefined;
  parentRunId?: string | undefined;
  errorCode?: string | undefined;
  /** Created at or after (ms). */
  createdFrom?: number | undefined;
  /** Created at or before (ms). */
  createdTo?: number | undefined;
  /** Run ids starting with this (an id, or the start of one). */
  idPrefix?: string | undefined;
}

export type RunRow = typeof runs.$inferSelect;

function conditions(search: RunSearch, options: { status: boolean }): SQL[] {
  const where: SQL[] = [];
  if (search.workflowId) where.push(eq(runs.workflowId, search.workflowId));
  if (options.status && search.status) where.push(eq(runs.status, search.status));
  if (search.parentRunId) where.push(eq(runs.parentRunId, search.parentRunId));
  if (search.errorCode) where.push(eq(runs.errorCode, search.errorCode));
  if (search.createdFrom !== undefined) where.push(gte(runs.createdAt, search.createdFrom));
  if (search.createdTo !== undefined) where.push(lte(runs.createdAt, search.createdTo));
  if (search.idPrefix) {
    // A range on the primary key, not LIKE: ids are ASCII and '\u007f' sorts after all of them.
    where.push(gte(runs.id, search.idPrefix), lt(runs.id, `${search.idPrefix}\u007f`));
  }
  return where;
}

/** The list's query, unrun: `searchRuns` runs it, the benchmark explains it. */
export function searchRunsQuery(
  db: Database,
  search: RunSearch,
  page: { limit: number; cursor?: { createdAt: number; id: string } },
) {
  const where = conditions(search, { status: true });
  if (page.cursor) {
    const { createdAt, id } = page.cursor;
    const older = or(lt(runs.createdAt, createdAt), and(eq(runs.createdAt, createdAt), lt(runs.id, id)));
    if (older) where.push(older);
  }
  return db
    .select()
    .from(runs)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(page.limit + 1);
}

/** Newest first, keyset-paginated on (created_at, id) like `listRuns`. */
export async function searchRuns(
  db: Database,
  search: RunSearch,
  page: { limit: number; cursor?: { createdAt: number; id: string } },
): Promise<{ runs: RunRow[]; nextCursor: string | null }> {
  const rows = await searchRunsQuery(db, search, page).all();
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return { runs: shown, nextCursor: rows.length > page.limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** Filters the kept counts cannot answer: with none of them, the counts come from `run_counts`. */
function keptCountsAnswer(search: RunSearch): boolean {
  return (
    !search.parentRunId &&
    !search.errorCode &&
    search.createdFrom === undefined &&
    search.createdTo === undefined &&
    !search.idPrefix
  );
}

/**
 * The counts' query, unrun. With no filter but workflow (and status, which the counts leave
 * out) they are read from `run_counts`, which triggers on `runs` keep exact; any other filter
 * counts the matching runs through their index.
 */
export function countRunsQuery(db: Database, search: RunSearch) {
  if (keptCountsAnswer(search)) {
    const where = [gt(runCounts.count, 0)];
    if (search.workflowId) where.push(eq(runCounts.workflowId, search.workflowId));
    return db
      .select({ status: runCounts.status, count: sum(runCounts.count).mapWith(Number) })
      .from(runCounts)
      .where(and(...where))
      .groupBy(runCounts.status);
  }
  const where = conditions(search, { status: false });
  return db
    .select({ status: runs.status, count: count() })
    .from(runs)
    .where(where.length > 0 ? and(...where) : undefined)
    .groupBy(runs.status);
}

/** How many runs match the search in each status (the status filter itself left out). */
export async function countRunsByStatus(db: Database, search: RunSearch): Promise<Record<string, number>> {
  const rows = await countRunsQuery(db, search).all();
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

export async function findRunRow(db: Database, runId: string): Promise<RunRow | undefined> {
  return db.select().from(runs).where(eq(runs.id, runId)).get();
}
