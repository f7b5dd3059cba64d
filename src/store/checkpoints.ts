import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { OutboxEntry } from "../run/run-storage";
import type { Database } from "./db";
import { contextVersions, runs, steps } from "./schema";

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function statement(db: Database, entry: OutboxEntry): BatchItem<"sqlite"> {
  switch (entry.kind) {
    case "run": {
      const { state } = entry;
      const row = {
        id: state.runId,
        workflowId: state.workflowId,
        version: state.version,
        status: state.status,
        triggerType: entry.triggerType,
        createdAt: state.createdAt,
        updatedAt: state.updatedAt,
        startedAt: state.startedAt ?? null,
        endedAt: state.endedAt ?? null,
        errorCode: state.error?.code ?? null,
        error: json(state.error),
      };
      // Never let an older checkpoint overwrite a newer one.
      return db
        .insert(runs)
        .values(row)
        .onConflictDoUpdate({ target: runs.id, set: row, setWhere: sql`excluded.updated_at >= ${runs.updatedAt}` });
    }
    case "step": {
      const { step } = entry;
      const row = {
        runId: entry.runId,
        nodeId: step.nodeId,
        type: step.type,
        status: step.status,
        attempts: step.attempts,
        startedAt: step.startedAt ?? null,
        endedAt: step.endedAt ?? null,
        errorCode: step.error?.code ?? null,
        error: json(step.error),
        contextVersion: step.contextVersion ?? null,
        history: JSON.stringify(step.history),
        updatedAt: entry.updatedAt,
      };
      return db
        .insert(steps)
        .values(row)
        .onConflictDoUpdate({
          target: [steps.runId, steps.nodeId],
          set: row,
          setWhere: sql`excluded.updated_at >= ${steps.updatedAt}`,
        });
    }
    case "context":
      return db
        .insert(contextVersions)
        .values({
          runId: entry.runId,
          version: entry.version,
          nodeId: entry.nodeId,
          patch: JSON.stringify(entry.patch),
          createdAt: entry.createdAt,
        })
        .onConflictDoNothing();
  }
}

/** Writes checkpoints as one D1 batch of idempotent upserts; replaying a batch changes nothing. */
export async function writeCheckpoints(db: Database, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const [first, ...rest] = entries.map((entry) => statement(db, entry));
  if (!first) return;
  await db.batch([first, ...rest]);
}
