import type { RunState, StepState } from "../engine/state";
import type { JsonObject } from "../lib/json";

/** A row a run object writes to its outbox, to be copied into D1 (runs, steps, context versions). */
export type OutboxEntry =
  | { kind: "run"; state: Omit<RunState, "steps">; triggerType: string; deleteAfter?: number | null }
  | { kind: "step"; runId: string; step: StepState; updatedAt: number }
  | { kind: "context"; runId: string; version: number; nodeId: string | null; patch: JsonObject; createdAt: number };

/*
 * Checkpoint upserts as plain prepared statements: this runs behind every run, often, and a
 * query builder here cost as much CPU as the steps themselves (docs/benchmarks.md).
 * A run or step row is only replaced by one at least as new, so replays and reordering are safe.
 */
const upsertRun = `INSERT INTO runs (id, workflow_id, version, status, trigger_type, created_at, updated_at, started_at, ended_at, error_code, error,
    llm_input_tokens, llm_output_tokens, llm_cost_usd, parent_run_id, delete_after)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
    started_at = excluded.started_at, ended_at = excluded.ended_at, error_code = excluded.error_code, error = excluded.error,
    llm_input_tokens = excluded.llm_input_tokens, llm_output_tokens = excluded.llm_output_tokens, llm_cost_usd = excluded.llm_cost_usd,
    delete_after = CASE WHEN ?17 = 1 THEN excluded.delete_after ELSE runs.delete_after END
  WHERE excluded.updated_at >= runs.updated_at`;

const upsertStep = `INSERT INTO steps (run_id, node_id, type, status, attempts, started_at, ended_at, error_code, error, context_version, history, updated_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
  ON CONFLICT (run_id, node_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
    started_at = excluded.started_at, ended_at = excluded.ended_at, error_code = excluded.error_code, error = excluded.error,
    context_version = excluded.context_version, history = excluded.history, updated_at = excluded.updated_at
  WHERE excluded.updated_at >= steps.updated_at`;

const insertContext = `INSERT INTO context_versions (run_id, version, node_id, patch, created_at)
  VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, version) DO NOTHING`;

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function statement(d1: D1Database, entry: OutboxEntry): D1PreparedStatement {
  switch (entry.kind) {
    case "run": {
      const { state } = entry;
      return d1.prepare(upsertRun).bind(
        state.runId,
        state.workflowId,
        state.version,
        state.status,
        entry.triggerType,
        state.createdAt,
        state.updatedAt,
        state.startedAt ?? null,
        state.endedAt ?? null,
        state.error?.code ?? null,
        json(state.error),
        state.llm?.inputTokens ?? 0,
        state.llm?.outputTokens ?? 0,
        state.llm?.costUsd ?? 0,
        state.parent?.runId ?? null,
        entry.deleteAfter ?? null,
        // An entry written before retention existed says nothing about it: the row keeps its own.
        entry.deleteAfter === undefined ? 0 : 1,
      );
    }
    case "step": {
      const { step } = entry;
      return d1.prepare(upsertStep).bind(
        entry.runId,
        step.nodeId,
        step.type,
        step.status,
        step.attempts,
        step.startedAt ?? null,
        step.endedAt ?? null,
        // A step the run ended before reaching has no error; its skip reason is the code to query by.
        step.error?.code ?? step.skip?.reason ?? null,
        json(step.error),
        step.contextVersion ?? null,
        JSON.stringify(step.history),
        entry.updatedAt,
      );
    }
    case "context":
      return d1
        .prepare(insertContext)
        .bind(entry.runId, entry.version, entry.nodeId, JSON.stringify(entry.patch), entry.createdAt);
  }
}

/** Writes checkpoints as one D1 batch (one transaction) of idempotent upserts. */
export async function writeCheckpoints(d1: D1Database, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await d1.batch(entries.map((entry) => statement(d1, entry)));
}
