import type { GateConfig } from "./types";

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (run_id TEXT PRIMARY KEY, granted_at INTEGER NOT NULL, lease_until INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS slots_lease ON slots (lease_until);
CREATE TABLE IF NOT EXISTS waiting (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, priority REAL NOT NULL, queued_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS waiting_order ON waiting (priority DESC, seq);
`;

export interface Slot {
  runId: string;
  grantedAt: number;
  leaseUntil: number;
}

/**
 * A gate's durable state in its object's SQLite: the slots granted (each a lease), the runs
 * waiting in order (priority, then arrival), and the bucket's arrival time. Counts are kept in
 * memory beside the tables, so a grant or a queueing costs the same however long the queue is.
 */
export class GateStore {
  private readonly sql: SqlStorage;
  private slotCount: number;
  private waitingCount: number;
  /** The lowest priority waiting: a newcomer at or under it goes last without counting rows. */
  private lowest: number | undefined;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.sql.exec(schema);
    this.slotCount = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM slots").one().n;
    const waiting = this.sql
      .exec<{ n: number; low: number | null }>("SELECT COUNT(*) AS n, MIN(priority) AS low FROM waiting")
      .one();
    this.waitingCount = waiting.n;
    this.lowest = waiting.low ?? undefined;
  }

  get running(): number {
    return this.slotCount;
  }

  get queued(): number {
    return this.waitingCount;
  }

  config(): GateConfig | undefined {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'config'").toArray()[0];
    return row ? (JSON.parse(row.value) as GateConfig) : undefined;
  }

  name(): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'name'").toArray()[0]?.value;
  }

  /** The latest version's limits apply from the next grant on; runs already waiting keep their place. */
  setConfig(name: string, config: GateConfig): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('config', ?), ('name', ?)",
      JSON.stringify(config),
      name,
    );
  }

  tat(): number {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tat'").toArray()[0];
    return row ? Number(row.value) : 0;
  }

  setTat(tat: number): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('tat', ?)", String(tat));
  }

  slot(runId: string): Slot | undefined {
    const row = this.sql
      .exec<{ granted_at: number; lease_until: number }>(
        "SELECT granted_at, lease_until FROM slots WHERE run_id = ?",
        runId,
      )
      .toArray()[0];
    return row && { runId, grantedAt: row.granted_at, leaseUntil: row.lease_until };
  }

  grant(runId: string, now: number, leaseUntil: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO slots (run_id, granted_at, lease_until) VALUES (?, ?, ?)",
      runId,
      now,
      leaseUntil,
    );
    this.slotCount += 1;
  }

  renew(runId: string, leaseUntil: number): void {
    this.sql.exec("UPDATE slots SET lease_until = ? WHERE run_id = ?", leaseUntil, runId);
  }

  free(runId: string): boolean {
    const freed = this.sql.exec("DELETE FROM slots WHERE run_id = ?", runId).rowsWritten > 0;
    if (freed) this.slotCount -= 1;
    return freed;
  }

  expired(now: number, limit: number): Slot[] {
    return this.sql
      .exec<{ run_id: string; granted_at: number; lease_until: number }>(
        "SELECT run_id, granted_at, lease_until FROM slots WHERE lease_until <= ? ORDER BY lease_until LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((row) => ({ runId: row.run_id, grantedAt: row.granted_at, leaseUntil: row.lease_until }));
  }

  nextLease(): number | undefined {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(lease_until) AS at FROM slots").one();
    return row.at ?? undefined;
  }

  /** The run's place in the queue (1 = next), or undefined when it is not waiting. */
  position(runId: string): number | undefined {
    const row = this.sql
      .exec<{ seq: number; priority: number }>("SELECT seq, priority FROM waiting WHERE run_id = ?", runId)
      .toArray()[0];
    if (!row) return undefined;
    const ahead = this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM waiting WHERE priority > ? OR (priority = ? AND seq < ?)",
        row.priority,
        row.priority,
        row.seq,
      )
      .one().n;
    return ahead + 1;
  }

  /** Queues a run; answers its place (a run already waiting keeps its place). */
  enqueue(runId: string, priority: number, now: number): number {
    const known = this.position(runId);
    if (known !== undefined) return known;
    const last = this.lowest === undefined || priority <= this.lowest;
    this.sql.exec("INSERT INTO waiting (run_id, priority, queued_at) VALUES (?, ?, ?)", runId, priority, now);
    this.waitingCount += 1;
    this.lowest = this.lowest === undefined ? priority : Math.min(this.lowest, priority);
    return last ? this.waitingCount : (this.position(runId) ?? this.waitingCount);
  }

  /** The next run to start: highest priority, then first come. */
  next(): string | undefined {
    return this.sql
      .exec<{ run_id: string }>("SELECT run_id FROM waiting ORDER BY priority DESC, seq LIMIT 1")
      .toArray()[0]?.run_id;
  }

  dequeue(runId: string): boolean {
    const removed = this.sql.exec("DELETE FROM waiting WHERE run_id = ?", runId).rowsWritten > 0;
    if (removed) {
      this.waitingCount -= 1;
      if (this.waitingCount === 0) this.lowest = undefined;
    }
    return removed;
  }

  /** For tests and the API: who holds a slot and who waits, in order. */
  snapshot(): { running: string[]; waiting: string[] } {
    const running = this.sql
      .exec<{ run_id: string }>("SELECT run_id FROM slots ORDER BY granted_at, run_id")
      .toArray()
      .map((row) => row.run_id);
    const waiting = this.sql
      .exec<{ run_id: string }>("SELECT run_id FROM waiting ORDER BY priority DESC, seq")
      .toArray()
      .map((row) => row.run_id);
    return { running, waiting };
  }
}
