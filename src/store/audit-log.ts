import { and, asc, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import { sha256Hex } from "../lib/hash";
import { canonicalJson } from "../lib/json";
import type { Database } from "./db";
import { auditLog } from "./schema";

/** Who made a request, as the audit trail names them. */
export interface AuditActor {
  kind:
    | "token"
    | "key"
    | "access"
    | "session:token"
    | "session:key"
    | "session:access"
    | "approver"
    | "system"
    | "anonymous";
  id: string | null;
  name: string | null;
}

/** One request, before it has its place in the chain. */
export interface AuditRecord {
  at: number;
  actor: AuditActor;
  action: string;
  workflowId: string | null;
  runId: string | null;
  status: number;
  code: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry extends AuditRecord {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The hash the first entry points back to. */
export const genesisHash = "0".repeat(64);

/** The canonical form an entry's hash covers: every field but the hash itself, keys sorted. */
export function entryHash(entry: Omit<AuditEntry, "hash">): Promise<string> {
  return sha256Hex(
    canonicalJson({
      seq: entry.seq,
      at: entry.at,
      actor: { kind: entry.actor.kind, id: entry.actor.id, name: entry.actor.name },
      action: entry.action,
      workflowId: entry.workflowId,
      runId: entry.runId,
      status: entry.status,
      code: entry.code,
      ip: entry.ip,
      userAgent: entry.userAgent,
      prevHash: entry.prevHash,
    }),
  );
}

/** How many times a writer that lost the race for the next `seq` reads the last entry again. */
const maxAttempts = 64;

function isConflict(thrown: unknown): boolean {
  return /UNIQUE constraint failed|PRIMARY KEY|SQLITE_CONSTRAINT/i.test(String((thrown as Error)?.message ?? thrown));
}

/**
 * Appends one entry after the last one. D1 runs one statement at a time, and `seq` is the
 * primary key: of two writers that read the same last entry, one insert wins and the other
 * fails on `seq`, reads the new last entry and hashes against it. The chain cannot fork.
 */
export async function appendAudit(d1: D1Database, record: AuditRecord): Promise<AuditEntry> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const last = await d1
      .prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
      .first<{ seq: number; hash: string }>();
    const base = { ...record, seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? genesisHash };
    const entry: AuditEntry = { ...base, hash: await entryHash(base) };
    try {
      await d1
        .prepare(
          `INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, workflow_id, run_id, status, code,
             ip, user_agent, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
        )
        .bind(
          entry.seq,
          entry.at,
          entry.actor.kind,
          entry.actor.id,
          entry.actor.name,
          entry.action,
          entry.workflowId,
          entry.runId,
          entry.status,
          entry.code,
          entry.ip,
          entry.userAgent,
          entry.prevHash,
          entry.hash,
        )
        .run();
      return entry;
    } catch (thrown) {
      if (!isConflict(thrown)) throw thrown;
      // Another writer took this seq: read again, after a short random pause so that many
      // writers racing do not keep colliding in step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 10)));
    }
  }
  throw new Error(`audit entry not appended after ${maxAttempts} attempts`);
}

type Row = typeof auditLog.$inferSelect;

function toEntry(row: Row): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: { kind: row.actorKind as AuditActor["kind"], id: row.actorId, name: row.actorName },
    action: row.action,
    workflowId: row.workflowId,
    runId: row.runId,
    status: row.status,
    code: row.code,
    ip: row.ip,
    userAgent: row.userAgent,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

export interface AuditFilter {
  /** A key id, a key or token name, an Access email or an approver's address. */
  actor?: string;
  action?: string;
  workflowId?: string;
  runId?: string;
  from?: number;
  to?: number;
  /** Entries before this `seq` (the previous page's cursor). */
  before?: number;
  limit: number;
}

/** Newest first; `next` is the cursor of the following page. */
export async function listAudit(db: Database, filter: AuditFilter) {
  const where: SQL[] = [];
  if (filter.actor !== undefined) {
    const either = or(eq(auditLog.actorId, filter.actor), eq(auditLog.actorName, filter.actor));
    if (either) where.push(either);
  }
  if (filter.action !== undefined) where.push(eq(auditLog.action, filter.action));
  if (filter.workflowId !== undefined) where.push(eq(auditLog.workflowId, filter.workflowId));
  if (filter.runId !== undefined) where.push(eq(auditLog.runId, filter.runId));
  if (filter.from !== undefined) where.push(gte(auditLog.at, filter.from));
  if (filter.to !== undefined) where.push(lt(auditLog.at, filter.to));
  if (filter.before !== undefined) where.push(lt(auditLog.seq, filter.before));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(filter.limit + 1)
    .all();
  const page = rows.slice(0, filter.limit).map(toEntry);
  const last = page.at(-1);
  return { entries: page, next: rows.length > filter.limit && last ? String(last.seq) : null };
}

export type Verification =
  | {
      ok: true;
      checked: number;
      first: number | null;
      last: number | null;
      /** Where to go on (`?from=`) when the walk stopped at its limit; null when it reached the end. */
      next: number | null;
    }
  | {
      ok: false;
      checked: number;
      broken: { seq: number; reason: "hash_mismatch" | "prev_hash_mismatch" | "gap"; expected: string; found: string };
    };

const verifyPage = 500;

/**
 * Walks the chain from its oldest entry: each entry's hash must be its own canonical form's,
 * its `prev_hash` the entry before's, and its `seq` one more. The oldest entry's `prev_hash` is
 * taken as given: retention removes entries from the start of the chain. A walk from `from`
 * checks that entry against the one before it, so walks of `limit` entries each, one after the
 * other, check the same as one walk.
 */
export async function verifyAudit(
  db: Database,
  options: { from?: number; limit?: number } = {},
): Promise<Verification> {
  let checked = 0;
  let first: number | null = null;
  let previous: AuditEntry | undefined;
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
  if (options.from !== undefined) {
    const before = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.seq, options.from - 1))
      .get();
    if (before) previous = toEntry(before);
  }
  let start = options.from ?? 0;
  for (;;) {
    if (checked >= limit) return { ok: true, checked, first, last: previous?.seq ?? null, next: start };
    const rows = await db
      .select()
      .from(auditLog)
      .where(gte(auditLog.seq, start))
      .orderBy(asc(auditLog.seq))
      .limit(Math.min(verifyPage, limit - checked))
      .all();
    for (const row of rows) {
      const entry = toEntry(row);
      if (previous && entry.seq !== previous.seq + 1) {
        return broken(checked, entry.seq, "gap", String(previous.seq + 1), String(entry.seq));
      }
      if (previous && entry.prevHash !== previous.hash) {
        return broken(checked, entry.seq, "prev_hash_mismatch", previous.hash, entry.prevHash);
      }
      const { hash: _stored, ...rest } = entry;
      const expected = await entryHash(rest);
      if (expected !== entry.hash) return broken(checked, entry.seq, "hash_mismatch", expected, entry.hash);
      first ??= entry.seq;
      previous = entry;
      start = entry.seq + 1;
      checked++;
    }
    if (rows.length < Math.min(verifyPage, limit - checked + rows.length)) {
      return { ok: true, checked, first, last: previous?.seq ?? null, next: null };
    }
  }
}

function broken(
  checked: number,
  seq: number,
  reason: "hash_mismatch" | "prev_hash_mismatch" | "gap",
  expected: string,
  found: string,
): Verification {
  return { ok: false, checked, broken: { seq, reason, expected, found } };
}

/**
 * Retention: removes up to `limit` entries from the start of the chain, up to the first one at or
 * after `before` (so what stays is one unbroken stretch), never the newest entry (the next append
 * hashes against it). Returns how many went.
 */
export async function deleteAuditBefore(d1: D1Database, before: number, limit: number): Promise<number> {
  const result = await d1
    .prepare(
      `DELETE FROM audit_log WHERE seq IN (
         SELECT seq FROM audit_log
          WHERE seq < coalesce((SELECT min(seq) FROM audit_log WHERE at >= ?1), (SELECT max(seq) FROM audit_log))
          ORDER BY seq LIMIT ?2)`,
    )
    .bind(before, limit)
    .run();
  return result.meta.changes ?? 0;
}
