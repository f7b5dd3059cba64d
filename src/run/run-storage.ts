import type { Transition } from "../engine/events";
import type { RunState, StepState, Timer } from "../engine/state";
import type { JsonObject } from "../lib/json";

/** What a run keeps besides its state: fixed at creation, never rewritten. */
export interface RunSetup {
  definition: unknown;
  triggerType: string;
}

export type OutboxEntry =
  | { kind: "run"; state: Omit<RunState, "steps">; triggerType: string }
  | { kind: "step"; runId: string; step: StepState; updatedAt: number }
  | { kind: "context"; runId: string; version: number; nodeId: string | null; patch: JsonObject; createdAt: number };

export interface OutboxRow {
  key: string;
  seq: number;
  entry: OutboxEntry;
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (node_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS context (version INTEGER PRIMARY KEY, node_id TEXT, patch TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS timers (id TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS timers_at ON timers (at);
CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
`;

/**
 * The run's durable state in its Durable Object's SQLite. Every write made in one synchronous
 * stretch commits atomically, so one transition is one commit.
 */
export class RunStorage {
  private readonly sql: SqlStorage;
  private seq = 0;

  /** False for an object no run was ever started in: reads find nothing and nothing is written. */
  private exists: boolean;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    // Looking up a run id that does not exist must not leave tables behind in a new object.
    this.exists =
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
    if (this.exists) {
      const row = this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM outbox").one();
      this.seq = row.seq ?? 0;
    }
  }

  create(setup: RunSetup, state: RunState, initialContext: JsonObject): void {
    this.sql.exec(schema);
    this.exists = true;
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
    this.persist({ state, changedSteps: Object.keys(state.steps), commands: [], changed: true }, setup.triggerType);
  }

  loadSetup(): RunSetup | undefined {
    if (!this.exists) return undefined;
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'setup'").toArray()[0];
    return row ? (JSON.parse(row.value) as RunSetup) : undefined;
  }

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

  contextVersions(): { version: number; nodeId: string | null; createdAt: number }[] {
    return this.sql
      .exec<{ version: number; node_id: string | null; created_at: number }>(
        "SELECT version, node_id, created_at FROM context ORDER BY version",
      )
      .toArray()
      .map((row) => ({ version: row.version, nodeId: row.node_id, createdAt: row.created_at }));
  }

  /** Writes what a transition changed: run header, touched steps, context, timers, outbox. */
  persist(transition: Transition, triggerType: string): void {
    const { state } = transition;
    const { steps: _steps, ...header } = state;
    this.sql.exec("INSERT OR REPLACE INTO run (id, state) VALUES (1, ?)", JSON.stringify(header));
    this.enqueue("run", { kind: "run", state: header, triggerType });
    for (const nodeId of transition.changedSteps) {
      const step = state.steps[nodeId];
      if (!step) continue;
      this.sql.exec("INSERT OR REPLACE INTO steps (node_id, state) VALUES (?, ?)", nodeId, JSON.stringify(step));
      this.enqueue(`step:${nodeId}`, { kind: "step", runId: state.runId, step, updatedAt: state.updatedAt });
    }
    for (const command of transition.commands) {
      switch (command.type) {
        case "write-context":
          this.writeContext(command.version, command.nodeId, command.patch, state.updatedAt);
          this.enqueue(`context:${command.version}`, {
            kind: "context",
            runId: state.runId,
            version: command.version,
            nodeId: command.nodeId,
            patch: command.patch,
            createdAt: state.updatedAt,
          });
          break;
        case "set-timer":
          this.setTimer(command.timer);
          break;
        case "clear-timer":
          this.sql.exec("DELETE FROM timers WHERE id = ?", command.id);
          break;
        case "execute":
        case "run-ended":
          break;
      }
    }
  }

  private writeContext(version: number, nodeId: string | null, patch: JsonObject, createdAt: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO context (version, node_id, patch, created_at) VALUES (?, ?, ?, ?)",
      version,
      nodeId,
      JSON.stringify(patch),
      createdAt,
    );
  }

  setTimer(timer: Timer | { id: string; at: number; kind: "watch" }): void {
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

  dueTimers(now: number): (Timer | { id: string; at: number; kind: "watch" })[] {
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

  /** Drops flushed rows, unless they were rewritten (a higher seq) while the flush was out. */
  acknowledge(rows: readonly OutboxRow[]): void {
    for (const row of rows) this.sql.exec("DELETE FROM outbox WHERE key = ? AND seq = ?", row.key, row.seq);
  }

  outboxSize(): number {
    if (!this.exists) return 0;
    return this.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM outbox").one().count;
  }
}
