import { and, eq, isNull, lt, ne, or } from "drizzle-orm";
import type { TriggerDefinition, WorkflowDefinition } from "../definition/schema";
import type { Env } from "../env";
import type { Database } from "./db";
import { schedules, triggerSubscriptions, workflows } from "./schema";
import { forgetWorkflow, isolateWorkflow, workflowCacheTtlMs } from "./workflow-cache";
import type { StoredVersion } from "./workflows";

export type ScheduleTrigger = Extract<TriggerDefinition, { type: "schedule" }>;

/** A workflow's latest version with the flags that decide whether triggers may start it. */
export interface WorkflowForRun extends StoredVersion {
  disabledAt: number | null;
  deletedAt: number | null;
}

/**
 * The latest version of a workflow for a trigger to start: this isolate's entry, or D1
 * (src/store/workflow-cache.ts says for how long and who may see an older one).
 */
export function latestWorkflowForTrigger(
  env: Pick<Env, "WORKFLOW_CACHE_TTL">,
  db: Database,
  workflowId: string,
): Promise<WorkflowForRun | undefined> {
  return isolateWorkflow(workflowId, workflowCacheTtlMs(env), () => loadWorkflow(db, workflowId));
}

/** The latest version and the workflow's flags in one query, from D1. */
export async function loadWorkflow(db: Database, workflowId: string): Promise<WorkflowForRun | undefined> {
  const row = await db.$client
    .prepare(
      `SELECT v.workflow_id AS workflowId, v.version, v.hash, v.created_at AS createdAt, v.definition,
              w.disabled_at AS disabledAt, w.deleted_at AS deletedAt
         FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version
        WHERE w.id = ?`,
    )
    .bind(workflowId)
    .first<Omit<WorkflowForRun, "definition"> & { definition: string }>();
  if (!row) return undefined;
  return { ...row, definition: JSON.parse(row.definition) as WorkflowDefinition };
}

export function scheduleTriggerOf(definition: WorkflowDefinition): ScheduleTrigger | undefined {
  return definition.triggers.find((trigger): trigger is ScheduleTrigger => trigger.type === "schedule");
}

/**
 * Statements that bring a workflow's subscriptions and schedule row in line with the version
 * being registered. They run in the registration's D1 batch (one transaction), after the
 * statement that bumps `latest_version`, so they can read the new version number.
 */
export function triggerStatements(
  d1: D1Database,
  definition: WorkflowDefinition,
  options: { defaultBucket: string; now: number },
): D1PreparedStatement[] {
  const id = definition.id;
  const statements = [
    d1.prepare("UPDATE workflows SET deleted_at = NULL WHERE id = ?").bind(id),
    d1.prepare("DELETE FROM trigger_subscriptions WHERE workflow_id = ?").bind(id),
  ];
  for (const [index, trigger] of definition.triggers.entries()) {
    const key =
      trigger.type === "event"
        ? trigger.name
        : trigger.type === "r2"
          ? (trigger.bucket ?? options.defaultBucket)
          : trigger.type === "email"
            ? trigger.address.toLowerCase()
            : null;
    if (key === null) continue;
    statements.push(
      d1
        .prepare("INSERT INTO trigger_subscriptions (kind, key, workflow_id, trigger_index) VALUES (?, ?, ?, ?)")
        .bind(trigger.type, key, id, index),
    );
  }
  const schedule = scheduleTriggerOf(definition);
  if (!schedule) {
    statements.push(d1.prepare("DELETE FROM schedules WHERE workflow_id = ?").bind(id));
    return statements;
  }
  statements.push(
    d1
      .prepare(
        `INSERT INTO schedules (workflow_id, version, cron, timezone, missed, catch_up_limit, updated_at)
         SELECT id, latest_version, ?2, ?3, ?4, ?5, ?6 FROM workflows WHERE id = ?1
         ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, cron = excluded.cron,
           timezone = excluded.timezone, missed = excluded.missed, catch_up_limit = excluded.catch_up_limit,
           updated_at = excluded.updated_at`,
      )
      .bind(
        id,
        schedule.cron,
        schedule.timezone ?? null,
        schedule.missed ?? "skip",
        schedule.catchUpLimit ?? 10,
        options.now,
      ),
  );
  return statements;
}

/** Workflows (not deleted) that subscribe to an event name or a bucket. */
export async function subscribers(db: Database, kind: "event" | "r2", key: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ workflowId: triggerSubscriptions.workflowId })
    .from(triggerSubscriptions)
    .innerJoin(workflows, eq(workflows.id, triggerSubscriptions.workflowId))
    .where(and(eq(triggerSubscriptions.kind, kind), eq(triggerSubscriptions.key, key), isNull(workflows.deletedAt)))
    .orderBy(triggerSubscriptions.workflowId)
    .all();
  return rows.map((row) => row.workflowId);
}

export type ScheduleRow = typeof schedules.$inferSelect;

export async function getScheduleRow(db: Database, workflowId: string): Promise<ScheduleRow | undefined> {
  return db.select().from(schedules).where(eq(schedules.workflowId, workflowId)).get();
}

/**
 * Schedules of live workflows whose object has not confirmed the latest version, or whose
 * next tick is overdue by more than `slackMs` (its alarm went missing): the watchdog's list.
 */
export async function schedulesNeedingAttention(db: Database, now: number, slackMs: number, limit: number) {
  return db
    .select({ schedule: schedules })
    .from(schedules)
    .innerJoin(workflows, eq(workflows.id, schedules.workflowId))
    .where(
      and(
        isNull(workflows.deletedAt),
        isNull(workflows.disabledAt),
        or(
          isNull(schedules.armedVersion),
          ne(schedules.armedVersion, schedules.version),
          isNull(schedules.nextAt),
          lt(schedules.nextAt, now - slackMs),
        ),
      ),
    )
    .orderBy(schedules.nextAt)
    .limit(limit)
    .all()
    .then((rows) => rows.map((row) => row.schedule));
}

/** The object's report of what it armed; ignored when a newer version was registered meanwhile. */
export async function recordScheduleState(
  db: Database,
  state: { workflowId: string; version: number; nextAt: number | null; lastTickAt: number | null },
): Promise<void> {
  await db
    .update(schedules)
    .set({ armedVersion: state.version, nextAt: state.nextAt, lastTickAt: state.lastTickAt })
    .where(and(eq(schedules.workflowId, state.workflowId), eq(schedules.version, state.version)))
    .run();
}

/** Sets or clears `disabled_at`; false when there is no such (undeleted) workflow. */
export async function setDisabled(db: Database, workflowId: string, disabledAt: number | null): Promise<boolean> {
  const row = await db
    .update(workflows)
    .set({ disabledAt })
    .where(and(eq(workflows.id, workflowId), isNull(workflows.deletedAt)))
    .returning({ id: workflows.id })
    .get();
  forgetWorkflow(workflowId);
  return row !== undefined;
}

/** Marks the workflow deleted and drops its subscriptions and schedule row in one batch. */
export async function markDeleted(db: Database, workflowId: string, now: number): Promise<boolean> {
  const [marked] = await db.batch([
    db
      .update(workflows)
      .set({ deletedAt: now, disabledAt: null })
      .where(and(eq(workflows.id, workflowId), isNull(workflows.deletedAt)))
      .returning({ id: workflows.id }),
    db.delete(triggerSubscriptions).where(eq(triggerSubscriptions.workflowId, workflowId)),
    db.delete(schedules).where(eq(schedules.workflowId, workflowId)),
  ]);
  forgetWorkflow(workflowId);
  return marked.length > 0;
}
