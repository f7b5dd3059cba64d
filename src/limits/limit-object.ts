import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { LimitApi, LimitSnapshot } from "./limit-stub";
import { applyReport, decideTake, emptyLimitState, type LimitState } from "./policy";
import type { Admission, CallReport, LimitConfig, TakeRequest } from "./types";

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS turns_at ON turns (at);
`;

/** A reserved turn nobody came back for (the run was cancelled) is forgotten this long after it came. */
const turnGraceMs = 10 * 60_000;

/**
 * One provider limit or circuit (an LLM provider, an http host, a named limit) shared by every
 * run: its buckets, its circuit and the turns it has given to calls waiting. Calls ask `take`
 * before they go and `report` after; the decisions are src/limits/policy.ts's, the state is one
 * row and a table of turns in this object's SQLite, so each answer is one commit.
 */
export class LimitObject extends DurableObject<Env> implements LimitApi {
  private readonly sql: SqlStorage;
  private state: LimitState | undefined;
  /** The name and config as last stored: most calls bring the same and write nothing of them. */
  private known: string | undefined;
  /** Replaceable in tests, to drive buckets and cool-downs without waiting for them. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(schema);
  }

  async take(name: string, config: LimitConfig, request: TakeRequest): Promise<Admission> {
    const now = this.clock();
    this.remember(name, config);
    const reserved = this.sql.exec<{ at: number }>("SELECT at FROM turns WHERE key = ?", request.key).toArray()[0]?.at;
    const decision = decideTake(this.load(), config, request, reserved, now);
    if (decision.reservation === null) this.sql.exec("DELETE FROM turns WHERE key = ?", request.key);
    else if (decision.reservation !== undefined) {
      this.sql.exec("INSERT OR REPLACE INTO turns (key, at) VALUES (?, ?)", request.key, decision.reservation);
      this.sql.exec("DELETE FROM turns WHERE at < ?", now - turnGraceMs);
    }
    this.save(decision.state);
    return decision.answer;
  }

  async report(name: string, config: LimitConfig, report: CallReport): Promise<void> {
    this.remember(name, config);
    this.save(applyReport(this.load(), config, report, this.clock()));
  }

  async snapshot(): Promise<LimitSnapshot | null> {
    const name = this.meta("name");
    if (name === undefined) return null;
    const waiting = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM turns WHERE at > ?", this.clock()).one().n;
    return {
      name,
      config: JSON.parse(this.meta("config") ?? "{}") as LimitConfig,
      state: this.load(),
      waiting,
      now: this.clock(),
    };
  }

  private load(): LimitState {
    if (!this.state) {
      const stored = this.meta("state");
      this.state = stored ? (JSON.parse(stored) as LimitState) : emptyLimitState();
    }
    return this.state;
  }

  private save(state: LimitState): void {
    this.state = state;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', ?)", JSON.stringify(state));
  }

  private remember(name: string, config: LimitConfig): void {
    const text = JSON.stringify([name, config]);
    if (this.known === text) return;
    this.known = text;
    this.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?), ('config', ?)",
      name,
      JSON.stringify(config),
    );
  }

  private meta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }
}
