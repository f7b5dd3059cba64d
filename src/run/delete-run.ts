import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import { deleteRunBlobs } from "../store/blobs";
import { database } from "../store/db";
import { recordOperations } from "../store/operations";
import { type DeletedRows, deleteRunRows, runRowExists } from "../store/run-deletion";
import { runStub } from "../triggers/start-run";

export interface RunDeletion {
  runId: string;
  /** The status the run had ended with; null when only leftovers of an earlier delete were found. */
  status: string | null;
  deleted: { objectStorage: boolean; blobs: number; rows: DeletedRows };
}

/**
 * `DELETE /api/runs/:runId`: an ended run's object storage first (so no checkpoint can land in D1
 * afterwards), then its blobs and its D1 rows. Each part is idempotent, so a delete cut short is
 * finished by asking again: D1 still knowing the run is enough to go on.
 */
export async function deleteRun(env: Env, runId: string): Promise<RunDeletion | { error: ErrorData }> {
  const object = await runStub(env, runId).destroy();
  if (object && "error" in object) return { error: object.error };
  if (!object && !(await runRowExists(env.DB, runId))) {
    return { error: errorData("run.not_found", `no run ${runId}`) };
  }
  const blobs = await deleteRunBlobs(env.BLOBS, runId);
  const rows = await deleteRunRows(env.DB, runId);
  await recordOperations(database(env.DB), [{ runId, operation: "delete", at: Date.now(), details: { blobs, rows } }]);
  return { runId, status: object?.status ?? null, deleted: { objectStorage: object !== null, blobs, rows } };
}
