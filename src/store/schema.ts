import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** D1: everything queried across runs. A run's live state lives in its Durable Object. */
export const workflows = sqliteTable("workflows", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  latestVersion: integer("latest_version").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const workflowVersions = sqliteTable(
  "workflow_versions",
  {
    workflowId: text("workflow_id").notNull(),
    version: integer("version").notNull(),
    definition: text("definition").notNull(),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.version] })],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    workflowId: text("workflow_id").notNull(),
    version: integer("version").notNull(),
    status: text("status").notNull(),
    triggerType: text("trigger_type").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    errorCode: text("error_code"),
    error: text("error"),
  },
  (table) => [
    index("runs_created").on(table.createdAt, table.id),
    index("runs_workflow_created").on(table.workflowId, table.createdAt, table.id),
    index("runs_status_created").on(table.status, table.createdAt, table.id),
  ],
);

export const steps = sqliteTable(
  "steps",
  {
    runId: text("run_id").notNull(),
    nodeId: text("node_id").notNull(),
    type: text("type").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    errorCode: text("error_code"),
    error: text("error"),
    contextVersion: integer("context_version"),
    history: text("history").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.nodeId] })],
);

export const contextVersions = sqliteTable(
  "context_versions",
  {
    runId: text("run_id").notNull(),
    version: integer("version").notNull(),
    nodeId: text("node_id"),
    patch: text("patch").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.version] })],
);

/** Run-once-per-trigger: one row per (workflow, key) while its window lasts. */
export const dedupKeys = sqliteTable(
  "dedup_keys",
  {
    workflowId: text("workflow_id").notNull(),
    key: text("key").notNull(),
    runId: text("run_id").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.key] })],
);
