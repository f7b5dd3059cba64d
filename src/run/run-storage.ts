import type { Transition } from "../engine/events";
import type { RunState, StepState, Timer } from "../engine/state";
import type { JsonObject } from "../lib/json";
import type { OutboxEntry } from "../store/checkpoints";
import { ContextLog, type ContextVersionInfo, snapshotSchema } from "./context-log";
import type { LeaseTimer } from "./step-dispatch";

export type { OutboxEntry };

/** What a run keeps besides its state: fixed at creation, never rewritten. */
export interface RunSetup {
  definition: unknown;
  triggerType: string;
  /** A child run of a run that marks sensitive data: everything it holds is sealed (src/security/sensitive.ts). */
  sensitiveAll?: true;
}

export interface OutboxRow {
  key: string;
  seq: number;
  entry: OutboxEntry;
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (node_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS context (version INTEGER PRIMARY KEY, node_id TEXT, patch TEXT NOT NULL, created_at INTEGER NOT NULL, hash TEXT);
CREATE TABLE IF NOT EXISTS timers (id TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS timers_at ON timers (at);
CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
`;

/** Tables added after the first release: created on load too, so older runs get them. */
const laterSchema = `
CREATE TABLE IF NOT EXISTS mail (id TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, payload TEXT NOT NULL, received_at INTEGER NOT NULL, consumed_by TEXT);
`;

/**
 * Timers the shell keeps for itself, beside the engine's: the watch, mail delivery leases and
 * retries, the leases of attempts dispatched through the steps queue, and calls to other runs.
 */
export type ShellTimer =
  | { id: string; at: number; kind: "watch" }
  | { id: string; at: number; kind: "mail" }
  | LeaseTimer
  /** Calls to other runs (start or cancel a child, report to the parent): src/run/children.ts. */
  | { id: string; at: number; kind: "links" };

/**
 * The run's durable state in its Durable Object's SQLite. Every write made in one synchronous
 * stretch commits atomically, so one transition is one commit.
 */
export class RunStorage {
  private readonly sql: SqlStorage;
  /** The last outbox sequence number handed out, and the highest one D1 has acknowledged. */
  private seq = 0;
  private flushedSeq = 0;

  /** False for an object no run was ever started in: reads find nothing and nothing is written. */
  private exists: boolean;
  /** Context versions: patches, their hash chain and periodic snapshots (context-log.ts). */
  readonly contextLog: ContextLog;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.contextLog = new ContextLog(sql);
    // Looking up a run id that does not exist must not leave tables behind in a new object.
    this.exists =
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
    if (this.exists) {
      this.sql.exec(laterSchema);
      this.contextLog.migrate();
      const row = this.sql
        .exec<{ low: number | null; high: number | null }>("SELECT MIN(seq) AS low, MAX(seq) AS high FROM outbox")
        .one();
      this.seq = row.high ?? 0;
      this.flushedSeq = row.low === null ? this.seq : row.low - 1;
    }
  }

  /**
   * A spare (src/triggers/spare-runs.ts): the tables, no run. Creating the object's database is
   * the part of a start worth doing ahead of the trigger; reads still find no run.
   */
  prepare(): void {
    this.sql.exec(schema + laterSchema + snapshotSchema);
    this.exists = true;
  }

  create(setup: RunSetup, state: RunState, initialContext: JsonObject): void {
    // A new run gets today's tables in one statement list; `migrate` is for runs stored before.
    this.prepare();
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('setup', ?)", JSON.stringify(setup));
    this.writeContext(0, null, initialContext, state.createdAt);
    this.enqueue("context:0", {
      kind: "context",
      runId: state.runId,
      version: 0,
      nodeId: null,
      patch: initialContext,
      createdAt: state.createdAt,
    });
    // Pending steps are not written: `loadState` rebuilds them from the plan, so creating a run
    // costs the same whatever the size of its workflow.
    this.persist({ state, changedSteps: [] }, setup.triggerType);
  }

  loadSetup(): RunSetup | undefined {
    if (!this.exists) return undefined;
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'setup'").toArray()[0];
    return row ? (JSON.parse(row.value) as RunSetup) : undefined;
  }

  /** The stored header and the steps that have changed since creation; the rest are pending. */
  loadState(): RunState | undefined {
    if (!this.exists) return undefined;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM run WHERE id = 1").toArray()[0];
    if (!row) return undefined;
    const header = JSON.parse(row.state) as Omit<RunState, "steps">;
    const steps: Record<string, StepState> = {};
    for (const step of this.sql.exec<{ node_id: string; state: string }>("SELECT node_id, state FROM steps")) {
      steps[step.node_id] = JSON.parse(step.state) as StepState;
    }
    return { ...header, steps };
  }

  /** Context patches from version 0 up to `version` (inclusive), in order. */
  *patches(upTo = Number.MAX_SAFE_INTEGER): Generator<JsonObject> {
    for (const row of this.sql.exec<{ patch: string }>(
      "SELECT patch FROM context WHERE version <= ? ORDER BY version",
      upTo,
    )) {
      yield JSON.parse(row.patch) as JsonObject;
    }
  }

  /** Every version with the node that wrote it and its chain hash. */
  contextVersions(): ContextVersionInfo[] {
    return this.contextLog.versions();
  }

  /** The stored context (references, not values) at a version, from its nearest snapshot. */
  contextAt(version: number): { context: JsonObject; hash: string } {
    return this.contextLog.at(version);
  }

  /** Every context version with its patch, in order (replays seed their context from these). */
  contextPatches(): { version: number; nodeId: string | null; patch: JsonObject }[] {
    return this.sql
      .exec<{ version: number; node_id: string | null; patch: string }>(
        "SELECT version, node_id, patch FROM context ORDER BY version",
      )
      .toArray()
      .map((row) => ({ version: row.version, nodeId: row.node_id, patch: JSON.parse(row.patch) as JsonObject }));
  }

  /**
   * A retry onto another version: the run's definition is replaced (the one exception to "fixed
   * at creation") and the steps of nodes that version removed are deleted, in the same commit
   * as the transition that follows.
   */
  replaceSetup(setup: RunSetup, droppedSteps: readonly string[]): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('setup', ?)", JSON.stringify(setup));
    for (const nodeId of droppedSteps) {
      this.sql.exec("DELETE FROM steps WHERE node_id = ?", nodeId);
      this.sql.exec("DELETE FROM outbox WHERE key = ?", `step:${nodeId}`);
    }
  }

  /**
   * Writes the run header and the steps a transition touched, with their outbox rows. The run
   * loop's ports write its context version and timers in the same synchronous stretch, so all of
   * it commits together.
   */
  persist(
    transition: Pick<Transition, "state" | "changedSteps">,
    triggerType: string,
    deleteAfter: number | null = null,
  ): void {
    const { state } = transition;
    const { steps: _steps, ...header } = state;
    this.sql.exec("INSERT OR REPLACE INTO run (id, state) VALUES (1, ?)", JSON.stringify(header));
    this.enqueue("run", { kind: "run", state: header, triggerType, deleteAfter });
    for (const nodeId of transition.changedSteps) {
      const step = state.steps[nodeId];
      if (!step) continue;
      this.sql.exec("INSERT OR REPLACE INTO steps (node_id, state) VALUES (?, ?)", nodeId, JSON.stringify(step));
      this.enqueue(`step:${nodeId}`, { kind: "step", runId: state.runId, step, updatedAt: state.updatedAt });
    }
  }

  /** A new context version: its patch, and its outbox row for D1. Part of the transition's commit. */
  writeContextVersion(command: { version: number; nodeId: string | null; patch: JsonObject }, state: RunState): void {
    this.writeContext(command.version, command.nodeId, command.patch, state.updatedAt);
    this.enqueue(`context:${command.version}`, {
      kind: "context",
      runId: state.runId,
      version: command.version,
      nodeId: command.nodeId,
      patch: command.patch,
      createdAt: state.updatedAt,
    });
  }

  private writeContext(version: number, nodeId: string | null, patch: JsonObject, createdAt: number): void {
    this.contextLog.write(version, nodeId, patch, createdAt);
  }

  /** After `deleteAll()`: the object holds no run any more, and nothing is left to flush. */
  forget(): void {
    this.exists = false;
    this.seq = 0;
    this.flushedSeq = 0;
    this.contextLog.reset();
  }

  setTimer(timer: Timer | ShellTimer): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO timers (id, at, body) VALUES (?, ?, ?)",
      timer.id,
      timer.at,
      JSON.stringify(timer),
    );
  }

  deleteTimer(id: string): void {
    this.sql.exec("DELETE FROM timers WHERE id = ?", id);
  }

  dueTimers(now: number): (Timer | ShellTimer)[] {
    if (!this.exists) return [];
    return this.sql
      .exec<{ body: string }>("SELECT body FROM timers WHERE at <= ? ORDER BY at", now)
      .toArray()
      .map((row) => JSON.parse(row.body));
  }

  nextTimerAt(): number | undefined {
    if (!this.exists) return undefined;
    return this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM timers").one().at ?? undefined;
  }

  /** Outbox rows are keyed by what they describe, so a later write of the same row replaces it. */
  private enqueue(key: string, entry: OutboxEntry): void {
    this.seq += 1;
    this.sql.exec(
      "INSERT OR REPLACE INTO outbox (key, seq, body) VALUES (?, ?, ?)",
      key,
      this.seq,
      JSON.stringify(entry),
    );
  }

  outbox(limit: number): OutboxRow[] {
    return this.sql
      .exec<{ key: string; seq: number; body: string }>("SELECT key, seq, body FROM outbox ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map((row) => ({ key: row.key, seq: row.seq, entry: JSON.parse(row.body) as OutboxEntry }));
  }

  /**
   * Drops the flushed rows. `outbox()` reads the lowest sequence numbers first, so every row at or
   * below the batch's highest was in the batch; a row rewritten meanwhile has a higher number.
   */
  acknowledge(rows: readonly OutboxRow[]): void {
    const high = rows.reduce((max, row) => Math.max(max, row.seq), 0);
    this.sql.exec("DELETE FROM outbox WHERE seq <= ?", high);
    this.flushedSeq = Math.max(this.flushedSeq, high);
  }

  /** Whether checkpoints are waiting for D1, known without a query. */
  hasUnflushed(): boolean {
    return this.exists && this.seq > this.flushedSeq;
  }
}
