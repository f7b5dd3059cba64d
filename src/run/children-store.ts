import type { ErrorData } from "../errors";
import type { Json } from "../lib/json";

/** One child of one attempt of a map, loop or subworkflow step, as the parent keeps it. */
export interface ChildRow {
  nodeId: string;
  attempt: number;
  index: number;
  /** Undefined for a loop iteration not yet started (its input depends on the one before). */
  input: Json | undefined;
  childRunId: string | null;
  status: "pending" | "running" | "success" | "failed" | "cancelled";
  output: Json | undefined;
  error: ErrorData | undefined;
  /** Loops: the loop's `until` held after this iteration. */
  done: boolean;
}

/** What the children of one step attempt run: resolved once, when the step starts them. */
export interface ChildBody {
  workflowId: string;
  version: number;
  definition: unknown;
}

/**
 * Calls to other runs that must happen even across a crash: starting a child, cancelling one,
 * telling the parent this run ended. Written in the same commit as the transition that asked
 * for them, sent behind it, retried on the run's alarm.
 */
export type LinkJob =
  | { id: string; kind: "start"; nodeId: string; attempt: number; index: number; attempts: number }
  | { id: string; kind: "cancel"; childRunId: string; attempts: number }
  | { id: string; kind: "notify"; attempts: number };

/** One start job per child, so a start written twice is one job. */
export function startJobId(child: { nodeId: string; attempt: number; index: number }): string {
  return `start:${child.nodeId}:${child.attempt}:${child.index}`;
}

export function cancelJobId(childRunId: string): string {
  return `cancel:${childRunId}`;
}

const schema = `
CREATE TABLE IF NOT EXISTS children (node_id TEXT NOT NULL, attempt INTEGER NOT NULL, idx INTEGER NOT NULL, input TEXT, child_run_id TEXT, status TEXT NOT NULL, output TEXT, error TEXT, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (node_id, attempt, idx));
CREATE TABLE IF NOT EXISTS child_bodies (node_id TEXT NOT NULL, attempt INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (node_id, attempt));
CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
`;

type RawRow = {
  node_id: string;
  attempt: number;
  idx: number;
  input: string | null;
  child_run_id: string | null;
  status: string;
  output: string | null;
  error: string | null;
  done: number;
};

function parse<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

function toRow(raw: RawRow): ChildRow {
  return {
    nodeId: raw.node_id,
    attempt: raw.attempt,
    index: raw.idx,
    input: parse<Json>(raw.input),
    childRunId: raw.child_run_id,
    status: raw.status as ChildRow["status"],
    output: parse<Json>(raw.output),
    error: parse<ErrorData>(raw.error),
    done: raw.done === 1,
  };
}

/** The children, their bodies and the link jobs, in the run's own SQLite (created on first use). */
export class ChildrenStore {
  private readonly sql: SqlStorage;
  private ready = false;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Only called for a run that exists: a lookup of a missing run must leave no tables behind. */
  private db(): SqlStorage {
    if (!this.ready) {
      this.sql.exec(schema);
      this.ready = true;
    }
    return this.sql;
  }

  addPending(nodeId: string, attempt: number, inputs: readonly Json[], body: ChildBody): void {
    const db = this.db();
    db.exec(
      "INSERT OR REPLACE INTO child_bodies (node_id, attempt, body) VALUES (?, ?, ?)",
      nodeId,
      attempt,
      JSON.stringify(body),
    );
    for (const [index, input] of inputs.entries()) {
      db.exec(
        "INSERT OR REPLACE INTO children (node_id, attempt, idx, input, status) VALUES (?, ?, ?, ?, 'pending')",
        nodeId,
        attempt,
        index,
        JSON.stringify(input),
      );
    }
  }

  body(nodeId: string, attempt: number): ChildBody | undefined {
    const row = this.db()
      .exec<{ body: string }>("SELECT body FROM child_bodies WHERE node_id = ? AND attempt = ?", nodeId, attempt)
      .toArray()[0];
    return row ? (JSON.parse(row.body) as ChildBody) : undefined;
  }

  child(nodeId: string, attempt: number, index: number): ChildRow | undefined {
    const raw = this.db()
      .exec<RawRow>("SELECT * FROM children WHERE node_id = ? AND attempt = ? AND idx = ?", nodeId, attempt, index)
      .toArray()[0];
    return raw ? toRow(raw) : undefined;
  }

  /** Every child of a step attempt, in index order. */
  children(nodeId: string, attempt: number): ChildRow[] {
    return this.db()
      .exec<RawRow>("SELECT * FROM children WHERE node_id = ? AND attempt = ? ORDER BY idx", nodeId, attempt)
      .toArray()
      .map(toRow);
  }

  /** A loop iteration has no row until it starts; a map item's row was written when the step started. */
  markRunning(nodeId: string, attempt: number, index: number, childRunId: string): void {
    this.db().exec(
      `INSERT INTO children (node_id, attempt, idx, child_run_id, status) VALUES (?, ?, ?, ?, 'running')
       ON CONFLICT (node_id, attempt, idx) DO UPDATE SET child_run_id = excluded.child_run_id, status = 'running'`,
      nodeId,
      attempt,
      index,
      childRunId,
    );
  }

  /**
   * Every child run this run started, over all its steps and attempts. Read without creating the
   * tables, so asking a run that never had children writes nothing.
   */
  startedRunIds(): string[] {
    if (!this.ready) {
      const found = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'children'").toArray();
      if (found.length === 0) return [];
    }
    return this.sql
      .exec<{ id: string }>(
        "SELECT child_run_id AS id FROM children WHERE child_run_id IS NOT NULL ORDER BY node_id, attempt, idx",
      )
      .toArray()
      .map((row) => row.id);
  }

  setInput(nodeId: string, attempt: number, index: number, input: Json): void {
    this.db().exec(
      "UPDATE children SET input = ? WHERE node_id = ? AND attempt = ? AND idx = ?",
      JSON.stringify(input),
      nodeId,
      attempt,
      index,
    );
  }

  settle(
    row: Pick<ChildRow, "nodeId" | "attempt" | "index">,
    status: ChildRow["status"],
    result: { output?: Json; error?: ErrorData; done?: boolean } = {},
  ): void {
    this.db().exec(
      "UPDATE children SET status = ?, output = ?, error = ?, done = ? WHERE node_id = ? AND attempt = ? AND idx = ?",
      status,
      result.output === undefined ? null : JSON.stringify(result.output),
      result.error === undefined ? null : JSON.stringify(result.error),
      result.done ? 1 : 0,
      row.nodeId,
      row.attempt,
      row.index,
    );
  }

  // ---- link jobs ---------------------------------------------------------------------------

  putJob(job: LinkJob, at: number): void {
    this.db().exec("INSERT OR REPLACE INTO links (id, at, body) VALUES (?, ?, ?)", job.id, at, JSON.stringify(job));
  }

  hasJob(id: string): boolean {
    return this.db().exec("SELECT 1 FROM links WHERE id = ?", id).toArray().length > 0;
  }

  dropJob(id: string): void {
    this.db().exec("DELETE FROM links WHERE id = ?", id);
  }

  dueJobs(dueBy: number, limit: number): LinkJob[] {
    return this.db()
      .exec<{ body: string }>("SELECT body FROM links WHERE at <= ? ORDER BY at LIMIT ?", dueBy, limit)
      .toArray()
      .map((row) => JSON.parse(row.body) as LinkJob);
  }

  nextJobAt(): number | undefined {
    return this.db().exec<{ at: number | null }>("SELECT MIN(at) AS at FROM links").one().at ?? undefined;
  }
}
