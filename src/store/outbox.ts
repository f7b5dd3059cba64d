import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Database } from "./db";
import { emailOutbox } from "./schema";

export type OutboxMessage = typeof emailOutbox.$inferInsert;

/** Upserts one message's record by its id: a retry updates the same row. */
export function recordEmail(db: Database, message: OutboxMessage) {
  const { id: _id, createdAt: _createdAt, ...changes } = message;
  return db.insert(emailOutbox).values(message).onConflictDoUpdate({ target: emailOutbox.id, set: changes });
}

export async function listOutbox(
  db: Database,
  filter: {
    runId?: string | undefined;
    to?: string | undefined;
    limit: number;
    before?: { createdAt: number; id: string };
  },
) {
  const conditions: SQL[] = [];
  if (filter.runId) conditions.push(eq(emailOutbox.runId, filter.runId));
  if (filter.to) conditions.push(eq(emailOutbox.to, filter.to));
  if (filter.before) {
    const { createdAt, id } = filter.before;
    const older = or(
      lt(emailOutbox.createdAt, createdAt),
      and(eq(emailOutbox.createdAt, createdAt), lt(emailOutbox.id, id)),
    );
    if (older) conditions.push(older);
  }
  return db
    .select()
    .from(emailOutbox)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(filter.limit)
    .all();
}

export function markEmailFailed(db: Database, id: string, attempts: number, error: string) {
  return db.update(emailOutbox).set({ status: "failed", error, attempts }).where(eq(emailOutbox.id, id)).run();
}
