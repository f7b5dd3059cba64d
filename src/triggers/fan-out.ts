import type { Env } from "../env";
import { type ErrorData, errorStatus, toErrorData } from "../errors";
import { database } from "../store/db";
import { latestWorkflowForTrigger, subscribers, type WorkflowForRun } from "../store/triggers";

/** What one subscribed workflow did with an event or an upload. */
export type SubscriberResult =
  | { workflowId: string; status: "queued" | "duplicate" | "skipped"; runId: string; version: number }
  | { workflowId: string; status: "debounced"; runId: string; version: number; startsAt: number }
  | { workflowId: string; status: "rate_limited"; version: number }
  | { workflowId: string; status: "filtered" }
  | { workflowId: string; status: "rejected"; error: ErrorData };

/**
 * Hands one event to every workflow subscribed to `key`, concurrently. A workflow that rejects
 * it (its schema, its filter failing, disabled) is reported and the others go on; an
 * unexpected failure (D1 unreachable) is thrown once every subscriber has had its turn, so a
 * queue message is retried. Retrying is safe: each run is claimed under the event's id.
 */
export async function fanOut(
  env: Env,
  kind: "event" | "r2",
  key: string,
  only: readonly string[] | null,
  start: (workflow: WorkflowForRun) => Promise<SubscriberResult>,
): Promise<SubscriberResult[]> {
  const db = database(env.DB);
  const workflowIds = (await subscribers(db, kind, key)).filter((id) => only === null || only.includes(id));
  const settled = await Promise.allSettled(
    workflowIds.map(async (workflowId): Promise<SubscriberResult> => {
      const workflow = await latestWorkflowForTrigger(env, db, workflowId);
      if (!workflow || workflow.deletedAt !== null) return { workflowId, status: "filtered" };
      try {
        return await start(workflow);
      } catch (thrown) {
        const error = toErrorData(thrown);
        if (errorStatus[error.code] < 500) return { workflowId, status: "rejected", error };
        throw thrown;
      }
    }),
  );
  const failure = settled.find((entry) => entry.status === "rejected");
  if (failure) throw failure.reason;
  return settled.map((entry) => (entry as PromiseFulfilledResult<SubscriberResult>).value);
}
