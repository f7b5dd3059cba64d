import type { Env } from "../env";
import { database } from "../store/db";
import { getScheduleRow, setDisabled } from "../store/triggers";
import { configFromRow, scheduleStub } from "../triggers/schedules";

/**
 * Enabling and disabling a workflow, shared by the API's routes and the dashboard. Each answers
 * false when there is no such workflow.
 */

/** Disabling keeps the workflow and its versions but starts nothing; its schedule stops. */
export async function disableWorkflow(env: Env, workflowId: string): Promise<boolean> {
  const db = database(env.DB);
  if (!(await setDisabled(db, workflowId, Date.now()))) return false;
  if (await getScheduleRow(db, workflowId)) await stopSchedule(env, workflowId);
  return true;
}

/** Enabling starts the schedule again from its next tick; ticks while disabled are not caught up. */
export async function enableWorkflow(env: Env, workflowId: string): Promise<{ nextAt: number | null } | false> {
  const db = database(env.DB);
  if (!(await setDisabled(db, workflowId, null))) return false;
  const row = await getScheduleRow(db, workflowId);
  const schedule = row ? await scheduleStub(env, workflowId).configure(configFromRow(row), Date.now()) : null;
  return { nextAt: schedule ? schedule.nextAt : null };
}

export async function stopSchedule(env: Env, workflowId: string): Promise<void> {
  try {
    await scheduleStub(env, workflowId).stop();
  } catch (thrown) {
    // The object stops itself at its next alarm: it finds the workflow gone or disabled.
    console.log(JSON.stringify({ level: "warn", message: "schedule stop failed", workflowId, error: String(thrown) }));
  }
}
