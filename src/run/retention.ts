import type { WorkflowDefinition } from "../definition/schema";
import type { RunState } from "../engine/state";
import type { Env } from "../env";
import { parseDuration } from "../lib/duration";

type EndedStatus = "success" | "failed" | "cancelled";

const vars: Record<EndedStatus, "RETENTION_SUCCESS" | "RETENTION_FAILED" | "RETENTION_CANCELLED"> = {
  success: "RETENTION_SUCCESS",
  failed: "RETENTION_FAILED",
  cancelled: "RETENTION_CANCELLED",
};

/**
 * A duration var read as milliseconds; unset, empty, "0" or malformed reads as undefined: keep
 * forever. (A malformed var keeps data rather than deleting it early; the docs say so.)
 */
export function retentionVar(value: unknown): number | undefined {
  if (typeof value !== "string" || value.trim() === "" || value.trim() === "0") return undefined;
  const ms = parseDuration(value);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/**
 * When the watchdog may delete this run: its end plus the retention for how it ended (the
 * definition's, else the RETENTION_* var), or null while it has not ended, for a child run (it
 * goes with its parent) and when it is kept forever.
 */
export function deleteAfterOf(
  state: Pick<RunState, "status" | "endedAt" | "parent">,
  /** The run's definition as its object keeps it (validated at registration). */
  definition: unknown,
  env: Pick<Env, "RETENTION_SUCCESS" | "RETENTION_FAILED" | "RETENTION_CANCELLED">,
): number | null {
  if (state.parent || state.endedAt === undefined) return null;
  const status = state.status;
  if (status !== "success" && status !== "failed" && status !== "cancelled") return null;
  const own = (definition as Pick<WorkflowDefinition, "retention"> | undefined)?.retention?.[status];
  const ms = own !== undefined ? parseDuration(own) : retentionVar(env[vars[status]]);
  return ms === undefined ? null : state.endedAt + ms;
}
