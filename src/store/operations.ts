import { desc, eq, or } from "drizzle-orm";
import { sortableId } from "../lib/ids";
import type { Database } from "./db";
import { runOperations } from "./schema";

// ---- the audit trail ------------------------------------------------------------------------

export interface OperationEntry {
  runId: string;
  operation: "pause" | "resume" | "retry" | "replay" | "cancel" | "requeue" | "delete" | "compensate";
  at: number;
  relatedRunId?: string;
  bulkId?: string;
  details?: unknown;
}

export async function recordOperations(db: Database, entries: readonly OperationEntry[]): Promise<void> {
  const rows = entries.map((entry) => ({
    id: sortableId("op", entry.at),
    runId: entry.runId,
    operation: entry.operation,
    at: entry.at,
    relatedRunId: entry.relatedRunId ?? null,
    bulkId: entry.bulkId ?? null,
    details: entry.details === undefined ? null : JSON.stringify(entry.details),
  }));
  // D1 binds at most 100 parameters per statement: 14 rows of 7 columns each, all in one batch.
  const statements = [];
  for (let start = 0; start < rows.length; start += rowsPerInsert) {
    statements.push(db.insert(runOperations).values(rows.slice(start, start + rowsPerInsert)));
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

const rowsPerInsert = 14;

/** Operations on a run, and replays made from it, newest first. */
export async function operationsOf(db: Database, runId: string) {
  const rows = await db
    .select()
    .from(runOperations)
    .where(or(eq(runOperations.runId, runId), eq(runOperations.relatedRunId, runId)))
    .orderBy(desc(runOperations.at), desc(runOperations.id))
    .limit(200)
    .all();
  return rows.map((row) => ({
    runId: row.runId,
    operation: row.operation,
    at: row.at,
    relatedRunId: row.relatedRunId,
    bulkId: row.bulkId,
    details: row.details ? (JSON.parse(row.details) as unknown) : null,
  }));
}

// ---- selecting runs for bulk actions ---------------------------------------------------------

export interface RunSelector {
  workflowId?: string;
  version?: number;
  status?: string;
  /** A node that failed in the run. */
  failedNode?: string;
  /** The run's error code (a failed run's is its failed step's). */
  errorCode?: string;
  /** Created at or after / before (epoch ms). */
  from?: number;
  to?: number;
  /** Only these runs (matched with the other fields too). */
  runIds?: string[];
  limit: number;
}

export interface SelectedRun {
  runId: string;
  workflowId: string;
  version: number;
  status: string;
  createdAt: number;
  errorCode: string | null;
  failedNodes: string[];
}

/** The runs a filter matches, newest first, and whether there were more than `limit`. */
export async function selectRuns(d1: D1Database, filter: RunSelector) {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    params.push(value);
    where.push(clause.replace("?", `?${params.length}`));
  };
  if (filter.workflowId !== undefined) add("r.workflow_id = ?", filter.workflowId);
  if (filter.version !== undefined) add("r.version = ?", filter.version);
  if (filter.status !== undefined) add("r.status = ?", filter.status);
  if (filter.errorCode !== undefined) add("r.error_code = ?", filter.errorCode);
  if (filter.from !== undefined) add("r.created_at >= ?", filter.from);
  if (filter.to !== undefined) add("r.created_at < ?", filter.to);
  if (filter.failedNode !== undefined) {
    add(
      "EXISTS (SELECT 1 FROM steps f WHERE f.run_id = r.id AND f.status = 'failed' AND f.node_id = ?)",
      filter.failedNode,
    );
  }
  if (filter.runIds !== undefined) {
    const first = params.length + 1;
    params.push(...filter.runIds);
    where.push(`r.id IN (${filter.runIds.map((_, index) => `?${first + index}`).join(", ")})`);
  }
  params.push(filter.limit + 1);
  const query = `SELECT r.id, r.workflow_id, r.version, r.status, r.created_at, r.error_code,
      (SELECT group_concat(s.node_id) FROM steps s WHERE s.run_id = r.id AND s.status = 'failed') AS failed_nodes
    FROM runs r ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ?${params.length}`;
  const { results } = await d1
    .prepare(query)
    .bind(...params)
    .all<{
      id: string;
      workflow_id: string;
      version: number;
      status: string;
      created_at: number;
      error_code: string | null;
      failed_nodes: string | null;
    }>();
  const runs: SelectedRun[] = results.slice(0, filter.limit).map((row) => ({
    runId: row.id,
    workflowId: row.workflow_id,
    version: row.version,
    status: row.status,
    createdAt: row.created_at,
    errorCode: row.error_code,
    failedNodes: row.failed_nodes ? row.failed_nodes.split(",").sort() : [],
  }));
  return { runs, truncated: results.length > filter.limit };
}

// ---- dead letters -----------------------------------------------------------------------------

export interface DeadLetter {
  runId: string;
  workflowId: string;
  version: number;
  createdAt: number;
  failedAt: number;
  error: unknown;
  /** The steps that exhausted their attempts (and escalation, where there was one). */
  nodes: { nodeId: string; type: string; attempts: number; error: unknown }[];
}

/**
 * A failed run is a dead letter: its failed step used up its attempts and, when it could
 * escalate, its reviewers' time, so nothing will retry it unless someone does. Newest first.
 */
export async function listDeadLetters(
  d1: D1Database,
  options: { workflowId?: string; limit: number; before?: { at: number; id: string } },
) {
  const params: (string | number)[] = [];
  let where = "r.status = 'failed'";
  if (options.workflowId !== undefined) {
    params.push(options.workflowId);
    where += ` AND r.workflow_id = ?${params.length}`;
  }
  const countParams = [...params];
  const countWhere = where;
  if (options.before) {
    params.push(options.before.at, options.before.id);
    where += ` AND (r.updated_at < ?${params.length - 1} OR (r.updated_at = ?${params.length - 1} AND r.id < ?${params.length}))`;
  }
  params.push(options.limit + 1);
  const [page, count] = await d1.batch([
    d1
      .prepare(
        `SELECT r.id, r.workflow_id, r.version, r.created_at, r.updated_at, r.ended_at, r.error,
           (SELECT json_group_array(json_object('nodeId', s.node_id, 'type', s.type, 'attempts', s.attempts, 'error', json(s.error)))
              FROM steps s WHERE s.run_id = r.id AND s.status = 'failed') AS nodes
         FROM runs r WHERE ${where} ORDER BY r.updated_at DESC, r.id DESC LIMIT ?${params.length}`,
      )
      .bind(...params),
    d1.prepare(`SELECT COUNT(*) AS count FROM runs r WHERE ${countWhere}`).bind(...countParams),
  ]);
  const rows = (page?.results ?? []) as {
    id: string;
    workflow_id: string;
    version: number;
    created_at: number;
    updated_at: number;
    ended_at: number | null;
    error: string | null;
    nodes: string | null;
  }[];
  const letters: DeadLetter[] = rows.slice(0, options.limit).map((row) => ({
    runId: row.id,
    workflowId: row.workflow_id,
    version: row.version,
    createdAt: row.created_at,
    failedAt: row.ended_at ?? row.updated_at,
    error: row.error ? (JSON.parse(row.error) as unknown) : null,
    nodes: row.nodes ? (JSON.parse(row.nodes) as DeadLetter["nodes"]) : [],
  }));
  const last = rows[options.limit - 1];
  return {
    deadLetters: letters,
    count: ((count?.results?.[0] as { count: number } | undefined)?.count ?? 0) as number,
    next: rows.length > options.limit && last ? { at: last.updated_at, id: last.id } : undefined,
  };
}
