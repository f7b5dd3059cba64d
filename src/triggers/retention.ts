import type { Env } from "../env";
import { deleteRun } from "../run/delete-run";
import { retentionVar } from "../run/retention";
import { appendAudit, deleteAuditBefore } from "../store/audit-log";
import { expiredRuns, postponeDeletion } from "../store/run-deletion";

/** How many expired runs one tick deletes when RETENTION_BATCH does not say. */
const defaultBatch = 25;
/** Audit entries one tick deletes at most. */
const auditBatch = 1_000;
/** A run that could not be deleted (a child still running, a platform error) is tried again this much later. */
export const retryDeletionAfterMs = 3_600_000;

function batchSize(env: Env): number {
  const value = Number(env.RETENTION_BATCH);
  return Number.isSafeInteger(value) && value > 0 && value <= 500 ? value : defaultBatch;
}

const retentionActor = { kind: "system", id: "retention", name: "retention" } as const;

/**
 * The watchdog's retention sweep: deletes up to a batch of ended runs whose `delete_after` has
 * passed and that no hold keeps, the way `DELETE /api/runs/:id` does (child runs, object
 * storage, blobs, D1 rows), each one recorded on the audit trail. A deleted run leaves the
 * index, so the next tick goes on where this one stopped; a run that cannot be deleted now is
 * put an hour back so it does not block the ones behind it. Then audit entries older than
 * RETENTION_AUDIT go, from the oldest end of the chain.
 */
export async function sweepRetention(env: Env, now: number) {
  const due = await expiredRuns(env.DB, now, batchSize(env));
  let deleted = 0;
  let postponed = 0;
  for (const run of due) {
    let outcome: { status: number; code: string | null };
    try {
      const result = await deleteRun(env, run.runId);
      outcome = "error" in result ? { status: 409, code: result.error.code } : { status: 200, code: null };
    } catch (thrown) {
      console.log(
        JSON.stringify({ level: "error", message: "retention delete failed", runId: run.runId, error: String(thrown) }),
      );
      outcome = { status: 500, code: "internal.error" };
    }
    if (outcome.status === 200) deleted++;
    else {
      postponed++;
      await postponeDeletion(env.DB, run.runId, now + retryDeletionAfterMs);
    }
    await appendAudit(env.DB, {
      at: Date.now(),
      actor: retentionActor,
      action: "RETENTION delete run",
      workflowId: run.workflowId,
      runId: run.runId,
      ...outcome,
      ip: null,
      userAgent: null,
    });
  }
  const auditKeep = retentionVar(env.RETENTION_AUDIT);
  const auditDeleted = auditKeep === undefined ? 0 : await deleteAuditBefore(env.DB, now - auditKeep, auditBatch);
  return { deleted, postponed, more: due.length === batchSize(env), auditDeleted };
}
