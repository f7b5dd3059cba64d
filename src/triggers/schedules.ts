import type { WorkflowDefinition } from "../definition/schema";
import type { Env } from "../env";
import { toErrorData } from "../errors";
import { logLine } from "../lib/log";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import { database } from "../store/db";
import {
  type ScheduleRow,
  type ScheduleTrigger,
  schedulesNeedingAttention,
  scheduleTriggerOf,
} from "../store/triggers";
import type { ScheduleConfig, ScheduleState } from "./schedule-object";
import { defaultCatchUpLimit, type MissedPolicy, scheduleGraceMs } from "./schedule-plan";

/** The schedule object's RPC surface, declared (like `RunApi`) rather than inferred. */
export interface ScheduleApi {
  configure(config: ScheduleConfig, now: number): Promise<ScheduleState>;
  stop(): Promise<void>;
  state(): Promise<ScheduleState | null>;
  ensure(config: ScheduleConfig, now: number): Promise<ScheduleState | null>;
  fireDue(now: number): Promise<ScheduleState | null>;
}

const scheduleMethods: MethodNames<ScheduleApi> = {
  configure: true,
  stop: true,
  state: true,
  ensure: true,
  fireDue: true,
};

export function scheduleStub(env: Env, workflowId: string): ScheduleApi {
  return rpcStub(env.SCHEDULES.get(env.SCHEDULES.idFromName(workflowId)), scheduleMethods);
}

export function configFromTrigger(workflowId: string, version: number, trigger: ScheduleTrigger): ScheduleConfig {
  return {
    workflowId,
    version,
    cron: trigger.cron,
    timezone: trigger.timezone ?? null,
    missed: trigger.missed ?? "skip",
    catchUpLimit: trigger.catchUpLimit ?? defaultCatchUpLimit,
  };
}

export function configFromRow(row: ScheduleRow): ScheduleConfig {
  return {
    workflowId: row.workflowId,
    version: row.version,
    cron: row.cron,
    timezone: row.timezone,
    missed: row.missed as MissedPolicy,
    catchUpLimit: row.catchUpLimit,
  };
}

/**
 * After a registration committed: point the workflow's schedule object at the new version, or
 * stop it when the version has no schedule. A failure here is not lost: the D1 row says which
 * version should run, and the watchdog (and the object's own next alarm) catch up.
 */
export async function applySchedule(
  env: Env,
  change: { definition: WorkflowDefinition; version: number; hadSchedule: boolean; disabled: boolean; now: number },
): Promise<ScheduleState | null> {
  const trigger = scheduleTriggerOf(change.definition);
  const stub = scheduleStub(env, change.definition.id);
  try {
    if (!trigger || change.disabled) {
      if (change.hadSchedule) await stub.stop();
      return null;
    }
    return await stub.configure(configFromTrigger(change.definition.id, change.version, trigger), change.now);
  } catch (thrown) {
    logLine("warn", "schedule not updated; the watchdog will retry", {
      workflowId: change.definition.id,
      error: toErrorData(thrown),
    });
    return null;
  }
}

/**
 * The watchdog's pass over schedules: objects that have not confirmed their latest version,
 * or whose next tick is overdue (their alarm went missing), are told to catch up. A tick the
 * alarm fires at the same moment is not fired twice: the tick's run id is derived from the
 * workflow and the tick time, and its dedup key is claimed once.
 */
export async function reconcileSchedules(env: Env, now: number): Promise<{ ensured: number }> {
  const rows = await schedulesNeedingAttention(database(env.DB), now, scheduleGraceMs / 2, 100);
  await Promise.all(
    rows.map(async (row) => {
      try {
        await scheduleStub(env, row.workflowId).ensure(configFromRow(row), now);
      } catch (thrown) {
        logLine("warn", "schedule ensure failed", { workflowId: row.workflowId, error: toErrorData(thrown) });
      }
    }),
  );
  return { ensured: rows.length };
}
