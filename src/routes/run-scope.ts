import { eq } from "drizzle-orm";
import type { Env } from "../env";
import { isRunId } from "../lib/ids";
import { database } from "../store/db";
import { runs } from "../store/schema";
import { runStub } from "../triggers/start-run";

/**
 * The workflow a run belongs to, for keys limited to some workflows. D1 answers for nearly every
 * run; one started a moment ago may not have its row yet, so its object is asked then.
 */
export async function runWorkflowId(env: Env, runId: string): Promise<string | undefined> {
  if (!isRunId(runId)) return undefined;
  const row = await database(env.DB).select({ workflowId: runs.workflowId }).from(runs).where(eq(runs.id, runId)).get();
  if (row) return row.workflowId;
  const report = await runStub(env, runId).report();
  return report?.workflowId;
}
