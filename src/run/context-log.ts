import { chainHash } from "../lib/blob-ref";
import type { Json, JsonObject } from "../lib/json";

/** A full snapshot of the stored context every this many versions bounds what a read replays. */
export const snapshotEvery = 50;

/**
 * Added after the first release: created (and the `hash` column added) on load too, so runs
 * stored before keep working; a new run's tables have both from the start. Snapshots are one
 * row per top-level key, so no row grows past what one inline value or reference can be (DO
 * SQLite caps a value at 2 MB).
 */
export const snapshotSchema = `
CREATE TABLE IF NOT EXISTS context_snapshots (version INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (version, key));
`;

export interface ContextVersionInfo {
  version: number;
  nodeId: string | null;
  createdAt: number;
  hash: string;
}

/**
 * The run's context versions in its SQLite: one stored patch per version (top-level keys, large
 * values already replaced by references), a hash chain over them, and a snapshot of the whole
 * stored context every `snapshotEvery` versions. Reading version v reads the nearest snapshot at
 * or below v and the patches after it.
 */
export class ContextLog {
  private readonly sql: SqlStorage;
  /** The stored context at `headVersion`, kept so a snapshot costs no read; rebuilt lazily. */
  private head: JsonObject | undefined;
  private headVersion = -1;
  private last: { version: number; hash: string } | undefined;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Brings an existing run's tables up to date; idempotent. */
  migrate(): void {
    this.sql.exec(snapshotSchema);
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(context)").toArray();
    if (columns.length > 0 && !columns.some((column) => column.name === "hash")) {
      this.sql.exec("ALTER TABLE context ADD COLUMN hash TEXT");
    }
  }

  /** Drops what is cached in memory (the run's storage was deleted). */
  reset(): void {
    this.head = undefined;
    this.headVersion = -1;
    this.last = undefined;
  }

  write(version: number, nodeId: string | null, patch: JsonObject, createdAt: number): string {
    const hash = chainHash(version === 0 ? null : this.hashAt(version - 1), patch);
    this.sql.exec(
      "INSERT OR REPLACE INTO context (version, node_id, patch, created_at, hash) VALUES (?, ?, ?, ?, ?)",
      version,
      nodeId,
      JSON.stringify(patch),
      createdAt,
      hash,
    );
    this.last = { version, hash };
    if (version === 0) {
      this.head = { ...patch };
      this.headVersion = 0;
    } else if (this.head && this.headVersion === version - 1) {
      this.head = { ...this.head, ...patch };
      this.headVersion = version;
    } else {
      this.head = undefined;
    }
    if (version > 0 && version % snapshotEvery === 0) this.snapshot(version);
    return hash;
  }

  /** The stored context at `version` and its hash: nearest snapshot, then the patches after it. */
  at(version: number): { context: JsonObject; hash: string } {
    if (this.head && this.headVersion === version) return { context: { ...this.head }, hash: this.hashAt(version) };
    const snap = this.sql
      .exec<{ version: number | null }>(
        "SELECT MAX(version) AS version FROM context_snapshots WHERE version <= ?",
        version,
      )
      .one().version;
    const context: Record<string, Json> = {};
    if (snap !== null) {
      for (const row of this.sql.exec<{ key: string; value: string }>(
        "SELECT key, value FROM context_snapshots WHERE version = ?",
        snap,
      )) {
        context[row.key] = JSON.parse(row.value) as Json;
      }
    }
    for (const row of this.sql.exec<{ patch: string }>(
      "SELECT patch FROM context WHERE version > ? AND version <= ? ORDER BY version",
      snap ?? -1,
      version,
    )) {
      Object.assign(context, JSON.parse(row.patch) as JsonObject);
    }
    return { context, hash: this.hashAt(version) };
  }

  versions(): ContextVersionInfo[] {
    const rows = this.sql
      .exec<{ version: number; node_id: string | null; created_at: number; hash: string | null }>(
        "SELECT version, node_id, created_at, hash FROM context ORDER BY version",
      )
      .toArray();
    const last = rows[rows.length - 1];
    // A run stored before hashes existed gets its chain computed once, on first read.
    if (last && last.hash === null) return this.backfill(last.version) ? this.versions() : [];
    return rows.map((row) => ({
      version: row.version,
      nodeId: row.node_id,
      createdAt: row.created_at,
      hash: row.hash ?? "",
    }));
  }

  hashAt(version: number): string {
    if (this.last?.version === version) return this.last.hash;
    const row = this.sql
      .exec<{ hash: string | null }>("SELECT hash FROM context WHERE version = ?", version)
      .toArray()[0];
    if (!row) throw new Error(`context version ${version} is not stored`);
    if (row.hash !== null) return row.hash;
    this.backfill(version);
    return this.hashAt(version);
  }

  /** Fills in the chain up to `version` from the last hashed row (or from version 0). */
  private backfill(version: number): boolean {
    let previous: string | null = null;
    let wrote = false;
    for (const row of this.sql
      .exec<{ version: number; patch: string; hash: string | null }>(
        "SELECT version, patch, hash FROM context WHERE version <= ? ORDER BY version",
        version,
      )
      .toArray()) {
      if (row.hash !== null) {
        previous = row.hash;
        continue;
      }
      previous = chainHash(row.version === 0 ? null : previous, JSON.parse(row.patch) as JsonObject);
      this.sql.exec("UPDATE context SET hash = ? WHERE version = ?", previous, row.version);
      wrote = true;
    }
    return wrote;
  }

  private snapshot(version: number): void {
    const context = this.head && this.headVersion === version ? this.head : this.at(version).context;
    this.head = { ...context };
    this.headVersion = version;
    this.sql.exec("DELETE FROM context_snapshots WHERE version = ?", version);
    for (const [key, value] of Object.entries(context)) {
      this.sql.exec(
        "INSERT INTO context_snapshots (version, key, value) VALUES (?, ?, ?)",
        version,
        key,
        JSON.stringify(value),
      );
    }
  }
}
