import { and, asc, desc, eq, gt } from "drizzle-orm";
import type { ApprovalRow } from "./approvals";
import type { Database } from "./db";
import { approvals } from "./schema";

/** What an approval link is bound to. */
export interface ReviewQuery {
  runId: string;
  nodeId: string;
  attempt: number;
  round: number;
  approver: string;
}

export interface OpenReview {
  runId: string;
  workflowId: string;
  nodeId: string;
  attempt: number;
  round: number;
  kind: string;
  createdAt: number;
  expiresAt: number;
  /** Approvers whose links are still unused. */
  pending: string[];
}

/** Unused, unexpired links oldest first (the `approvals_status_created` index), unrun. */
export function openLinksQuery(db: Database, now: number, limit: number) {
  return db
    .select()
    .from(approvals)
    .where(and(eq(approvals.status, "pending"), gt(approvals.expiresAt, now)))
    .orderBy(asc(approvals.createdAt), asc(approvals.id))
    .limit(limit * 10);
}

/**
 * Reviews with at least one unused, unexpired link, oldest first: one entry per run, step,
 * attempt and round, whatever the number of approvers asked.
 */
export async function openReviews(db: Database, now: number, limit: number): Promise<OpenReview[]> {
  const rows = await openLinksQuery(db, now, limit).all();
  const reviews = new Map<string, OpenReview>();
  for (const row of rows) {
    const key = `${row.runId}\u0000${row.nodeId}\u0000${row.attempt}\u0000${row.round}`;
    const review = reviews.get(key);
    if (review) {
      review.pending.push(row.approver);
      continue;
    }
    if (reviews.size >= limit) continue;
    reviews.set(key, {
      runId: row.runId,
      workflowId: row.workflowId,
      nodeId: row.nodeId,
      attempt: row.attempt,
      round: row.round,
      kind: row.kind,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      pending: [row.approver],
    });
  }
  return [...reviews.values()];
}

/**
 * The link an approver was sent for one review round, the latest if the mail was sent again:
 * deciding from the inbox uses (and so spends) that link, as if its email had been opened.
 */
export async function linkOfReview(db: Database, query: ReviewQuery): Promise<ApprovalRow | undefined> {
  return db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.runId, query.runId),
        eq(approvals.nodeId, query.nodeId),
        eq(approvals.attempt, query.attempt),
        eq(approvals.round, query.round),
        eq(approvals.approver, query.approver),
      ),
    )
    .orderBy(desc(approvals.createdAt))
    .get();
}

/**
 * The unused, unexpired links of one step's review, newest first: what a decision through the
 * API spends. Only the latest attempt and round are open; older ones the run has moved past.
 */
export async function openLinksOfStep(db: Database, runId: string, nodeId: string, now: number) {
  const rows = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.runId, runId),
        eq(approvals.nodeId, nodeId),
        eq(approvals.status, "pending"),
        gt(approvals.expiresAt, now),
      ),
    )
    .orderBy(desc(approvals.attempt), desc(approvals.round), desc(approvals.createdAt))
    .all();
  const latest = rows[0];
  return latest ? rows.filter((row) => row.attempt === latest.attempt && row.round === latest.round) : [];
}
