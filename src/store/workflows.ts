import { and, desc, eq } from "drizzle-orm";
import type { WorkflowDefinition } from "../definition/schema";
import type { Database } from "./db";
import { workflows, workflowVersions } from "./schema";
import { forgetWorkflow } from "./workflow-cache";

export interface StoredVersion {
  workflowId: string;
  version: number;
  hash: string;
  createdAt: number;
  definition: WorkflowDefinition;
}

/**
 * Registers a new immutable version. Bumping the counter and inserting the version happen in
 * one D1 batch (a transaction), so a failure leaves no pointer to a missing version.
 */
export async function registerVersion(
  db: Database,
  definition: WorkflowDefinition,
  hash: string,
  now: number,
  /** Statements that must commit with the version (trigger subscriptions, the schedule row). */
  also: D1PreparedStatement[] = [],
): Promise<number> {
  const d1 = db.$client;
  const [bumped] = await d1.batch<{ version: number }>([
    d1
      .prepare(
        `INSERT INTO workflows (id, name, latest_version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, latest_version = latest_version + 1, updated_at = excluded.updated_at
         RETURNING latest_version AS version`,
      )
      .bind(definition.id, definition.name, now),
    d1
      .prepare(
        `INSERT INTO workflow_versions (workflow_id, version, definition, hash, created_at)
         SELECT id, latest_version, ?2, ?3, ?4 FROM workflows WHERE id = ?1`,
      )
      .bind(definition.id, JSON.stringify(definition), hash, now),
    ...also,
  ]);
  forgetWorkflow(definition.id);
  const version = bumped?.results[0]?.version;
  if (version === undefined) throw new Error(`registering ${definition.id} returned no version`);
  return version;
}

export async function getVersion(
  db: Database,
  workflowId: string,
  version?: number,
): Promise<StoredVersion | undefined> {
  const where =
    version === undefined
      ? eq(workflowVersions.workflowId, workflowId)
      : and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version));
  const row = await db
    .select()
    .from(workflowVersions)
    .where(where)
    .orderBy(desc(workflowVersions.version))
    .limit(1)
    .get();
  if (!row) return undefined;
  return {
    workflowId: row.workflowId,
    version: row.version,
    hash: row.hash,
    createdAt: row.createdAt,
    definition: JSON.parse(row.definition) as WorkflowDefinition,
  };
}

export async function workflowExists(db: Database, workflowId: string): Promise<boolean> {
  const row = await db.select({ id: workflows.id }).from(workflows).where(eq(workflows.id, workflowId)).get();
  return row !== undefined;
}

export async function listWorkflows(db: Database) {
  return db.select().from(workflows).orderBy(workflows.id).all();
}

export async function listVersions(db: Database, workflowId: string) {
  return db
    .select({ version: workflowVersions.version, hash: workflowVersions.hash, createdAt: workflowVersions.createdAt })
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, workflowId))
    .orderBy(desc(workflowVersions.version))
    .all();
}
