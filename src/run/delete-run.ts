import { isTerminalRun, type RunStatus } from "../engine/state";
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
  deleted: { objectStorage: boolean; childRuns: number; blobs: number; rows: DeletedRows };
}

/** How many run objects one level of the tree asks at a time. */
const fanOut = 50;

/**
 * `DELETE /api/runs/:runId`: an ended run and every child run under it (map items, loop
 * iterations, subworkflow calls, theirs in turn). The tree is walked first, from the objects,
 * so a run under it that has not ended refuses the delete before anything is deleted. Then the
 * objects' storage, deepest first (so no checkpoint can land in D1 afterwards, and a delete cut
 * short leaves every remaining run able to find its children), then the blobs and D1 rows of
 * the whole tree. Each part is idempotent, so a delete cut short is finished by asking again: D1
 * still knowing the run is enough to go on.
 */
export async function deleteRun(env: Env, runId: string): Promise<RunDeletion | { error: ErrorData }> {
  const tree = await runTree(env, runId);
  if ("error" in tree) return tree;
  if (tree.status === null && !(await runRowExists(env.DB, runId))) {
    return { error: errorData("run.not_found", `no run ${runId}`) };
  }
  for (const level of [...tree.levels].reverse()) {
    const results = await inGroups(level, (id) => runStub(env, id).destroy());
    const refused = results.find((result) => result !== null && "error" in result);
    if (refused && "error" in refused) return { error: refused.error };
  }
  const blobs = await deleteRunBlobs(env.BLOBS, runId);
  const rows = await deleteRunRows(env.DB, runId);
  const childRuns = tree.levels.slice(1).flat();
  const at = Date.now();
  await recordOperations(database(env.DB), [
    { runId, operation: "delete", at, details: { childRuns: childRuns.length, blobs, rows } },
    ...childRuns.map((id) => ({ runId: id, operation: "delete" as const, at, details: { deletedWith: runId } })),
  ]);
  return {
    runId,
    status: tree.status,
    deleted: { objectStorage: tree.status !== null, childRuns: childRuns.length, blobs, rows },
  };
}

/**
 * The run and the runs under it, one level per entry, as their objects know them (a child's
 * object is its parent's record of it; D1 may trail). Runs nest at most 5 levels deep.
 */
async function runTree(
  env: Env,
  runId: string,
): Promise<{ status: string | null; levels: string[][] } | { error: ErrorData }> {
  const root = await runStub(env, runId).childRuns();
  // No object: it never existed, or an earlier delete got past it (and so past its children).
  if (!root) return { status: null, levels: [[runId]] };
  if (!isTerminalRun(root.status as RunStatus)) {
    return { error: errorData("run.not_active", `run is ${root.status}; only an ended run can be deleted`) };
  }
  const levels = [[runId]];
  let next = root.childRunIds;
  while (next.length > 0) {
    const found = await inGroups(next, async (id) => ({ id, runs: await runStub(env, id).childRuns() }));
    const active = found.find(({ runs }) => runs && !isTerminalRun(runs.status as RunStatus));
    if (active) {
      const message = `child run ${active.id} is ${active.runs?.status}; a run is deleted with its child runs once all have ended`;
      return { error: errorData("run.not_active", message) };
    }
    levels.push(next);
    next = found.flatMap(({ runs }) => runs?.childRunIds ?? []);
  }
  return { status: root.status, levels };
}

async function inGroups<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += fanOut) {
    results.push(...(await Promise.all(items.slice(start, start + fanOut).map(each))));
  }
  return results;
}
