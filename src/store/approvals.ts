import { and, eq, gt } from "drizzle-orm";
import type { Database } from "./db";
import { approvalAudit, approvals } from "./schema";

export type ApprovalRow = typeof approvals.$inferSelect;
export type NewApproval = Omit<ApprovalRow, "usedAt" | "decision" | "status">;

/** Records a link before its email leaves; a retried send inserts nothing twice. */
export function insertApproval(db: Database, row: NewApproval) {
  return db
    .insert(approvals)
    .values({ ...row, status: "pending", usedAt: null, decision: null })
    .onConflictDoNothing();
}

export async function findApproval(db: Database, tokenHash: string): Promise<ApprovalRow | undefined> {
  return db.select().from(approvals).where(eq(approvals.tokenHash, tokenHash)).get();
}

/**
 * Claims a link for one decision in one statement: of two concurrent submissions exactly one
 * gets the row back. An expired or used link is never claimed.
 */
export async function claimApproval(
  db: Database,
  claim: { id: string; decision: string; now: number },
): Promise<boolean> {
  const row = await db
    .update(approvals)
    .set({ status: "used", usedAt: claim.now, decision: claim.decision })
    .where(and(eq(approvals.id, claim.id), eq(approvals.status, "pending"), gt(approvals.expiresAt, claim.now)))
    .returning({ id: approvals.id })
    .get();
  return row !== undefined;
}

export interface AuditEntry {
  approvalId?: string | null | undefined;
  runId?: string | null | undefined;
  nodeId?: string | null | undefined;
  approver?: string | null | undefined;
  decision?: string | null | undefined;
  outcome: string;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  at: number;
  details?: unknown | undefined;
}

export async function recordAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db.insert(approvalAudit).values({
    approvalId: entry.approvalId ?? null,
    runId: entry.runId ?? null,
    nodeId: entry.nodeId ?? null,
    approver: entry.approver ?? null,
    decision: entry.decision ?? null,
    outcome: entry.outcome,
    ip: entry.ip ?? null,
    userAgent: entry.userAgent?.slice(0, 500) ?? null,
    at: entry.at,
    details: entry.details === undefined ? null : JSON.stringify(entry.details),
  });
}

export async function auditOf(db: Database, runId: string) {
  return db.select().from(approvalAudit).where(eq(approvalAudit.runId, runId)).orderBy(approvalAudit.id).all();
}

export async function approvalsOf(db: Database, runId: string) {
  return db.select().from(approvals).where(eq(approvals.runId, runId)).orderBy(approvals.createdAt).all();
}
