import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** D1: everything queried across runs. A run's live state lives in its Durable Object. */
export const workflows = sqliteTable("workflows", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  latestVersion: integer("latest_version").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** Set while the workflow is disabled: no trigger starts a run, its schedule is stopped. */
  disabledAt: integer("disabled_at"),
  /** Set once deleted (`DELETE /api/workflows/:id`); registering the id again revives it. */
  deletedAt: integer("deleted_at"),
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
    /** LLM usage of the whole run, as its object last checkpointed it (metrics sum these). */
    llmInputTokens: integer("llm_input_tokens").notNull().default(0),
    llmOutputTokens: integer("llm_output_tokens").notNull().default(0),
    llmCostUsd: real("llm_cost_usd").notNull().default(0),
    /** A child run (map item, loop iteration, subworkflow call): the run whose step started it. */
    parentRunId: text("parent_run_id"),
    /**
     * Retention: when the watchdog deletes this ended run (its end plus its workflow's retention
     * for its status); null while it runs, for child runs (deleted with their parent) and when kept
     * forever. Written by the run's checkpoints (src/run/retention.ts).
     */
    deleteAfter: integer("delete_after"),
    /** A hold (`POST /api/runs/:id/hold`) keeps the run whatever `delete_after` says. */
    heldAt: integer("held_at"),
  },
  (table) => [
    index("runs_created").on(table.createdAt, table.id),
    index("runs_parent").on(table.parentRunId),
    index("runs_workflow_created").on(table.workflowId, table.createdAt, table.id),
    index("runs_status_created").on(table.status, table.createdAt, table.id),
    // A workflow's runs in one status (the runs list, GET /api/runs, bulk actions): without it the
    // status index is read and filtered by workflow, 10-20 ms at 100,000 runs (docs/benchmarks.md).
    index("runs_workflow_status_created").on(table.workflowId, table.status, table.createdAt, table.id),
    // The dashboard's error code filter, newest first.
    index("runs_error_created").on(table.errorCode, table.createdAt, table.id),
    // The watchdog's retention sweep: the runs due for deletion, oldest due first, without holds.
    index("runs_delete_after").on(table.deleteAfter, table.id).where(sql`delete_after IS NOT NULL AND held_at IS NULL`),
  ],
);

/**
 * How many runs each workflow has in each status, kept exact by triggers on `runs` (the migration
 * that adds this table creates them): the runs list's counts by status read this instead of
 * counting the status index, which at 100,000 runs took longer than the page of rows.
 */
export const runCounts = sqliteTable(
  "run_counts",
  {
    workflowId: text("workflow_id").notNull(),
    status: text("status").notNull(),
    count: integer("count").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.status] })],
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

// ---- human-in-the-loop: approval links, their audit trail, and the email outbox ----------------

/**
 * One approval link. Only the SHA-256 of the token is stored; the token itself exists in the
 * email alone. A link is bound to one run, node, attempt, review round and approver, and is
 * claimed once with a conditional UPDATE.
 */
export const approvals = sqliteTable(
  "approvals",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull().unique(),
    runId: text("run_id").notNull(),
    workflowId: text("workflow_id").notNull(),
    nodeId: text("node_id").notNull(),
    attempt: integer("attempt").notNull(),
    round: integer("round").notNull(),
    kind: text("kind").notNull(),
    purpose: text("purpose").notNull(),
    approver: text("approver").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    decision: text("decision"),
    status: text("status").notNull(),
  },
  (table) => [
    index("approvals_run").on(table.runId, table.nodeId),
    // The approvals inbox: pending links oldest first, without reading used ones.
    index("approvals_status_created").on(table.status, table.createdAt, table.id),
  ],
);

/** Every decision submitted on an approval link, accepted or not: who, when, from where. */
export const approvalAudit = sqliteTable(
  "approval_audit",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    approvalId: text("approval_id"),
    runId: text("run_id"),
    nodeId: text("node_id"),
    approver: text("approver"),
    decision: text("decision"),
    outcome: text("outcome").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    at: integer("at").notNull(),
    details: text("details"),
  },
  (table) => [index("approval_audit_run").on(table.runId, table.at)],
);

/**
 * Every email the engine sent or tried to send. With the `outbox` adapter (local, tests) this
 * table is the delivery, links included; with a real adapter the links are left out.
 */
export const emailOutbox = sqliteTable(
  "email_outbox",
  {
    id: text("id").primaryKey(),
    runId: text("run_id").notNull(),
    nodeId: text("node_id").notNull(),
    purpose: text("purpose").notNull(),
    from: text("from_address").notNull(),
    to: text("to_address").notNull(),
    subject: text("subject").notNull(),
    links: text("links").notNull(),
    text: text("text_body"),
    html: text("html_body"),
    adapter: text("adapter").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (table) => [index("email_outbox_created").on(table.createdAt), index("email_outbox_run").on(table.runId)],
);

// ---- triggers: event and R2 subscriptions, schedules ------------------------------------------

/**
 * Which workflows an event name or a bucket starts. Rewritten with every registered version,
 * in the same D1 batch, so subscriptions always describe a workflow's latest version.
 */
export const triggerSubscriptions = sqliteTable(
  "trigger_subscriptions",
  {
    /** `event`, `r2` or `email`. */
    kind: text("kind").notNull(),
    /** The event name, the bucket name, or the email address (lower case; `*@domain` for a domain). */
    key: text("key").notNull(),
    workflowId: text("workflow_id").notNull(),
    triggerIndex: integer("trigger_index").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.kind, table.key, table.workflowId, table.triggerIndex] }),
    index("trigger_subscriptions_workflow").on(table.workflowId),
    // An address belongs to one workflow: a message is one run, and its reject reason one answer.
    uniqueIndex("trigger_subscriptions_email").on(table.key).where(sql`kind = 'email'`),
  ],
);

/**
 * A D1 mirror of each workflow's schedule. The ScheduleObject (Durable Object) holds the real
 * state; this row tells the watchdog which objects should exist, which version they should
 * run, and (from `next_at`) which ones have missed an alarm.
 */
export const schedules = sqliteTable(
  "schedules",
  {
    workflowId: text("workflow_id").primaryKey(),
    version: integer("version").notNull(),
    cron: text("cron").notNull(),
    timezone: text("timezone"),
    missed: text("missed").notNull(),
    catchUpLimit: integer("catch_up_limit").notNull(),
    /** The version the object last confirmed, and its next tick then: written by the object. */
    armedVersion: integer("armed_version"),
    nextAt: integer("next_at"),
    lastTickAt: integer("last_tick_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [index("schedules_next").on(table.nextAt)],
);

/**
 * The LLM replay cache (opt-in per node): a model's answer keyed by a SHA-256 of the provider,
 * model, rendered prompt and parameters. The first answer stored wins, so replays and reruns
 * that send the same request get the same answer. Holds answers only, never keys.
 */
export const llmCache = sqliteTable("llm_cache", {
  key: text("key").primaryKey(),
  provider: text("provider").notNull(),
  model: text("model").notNull(),
  answer: text("answer").notNull(),
  createdAt: integer("created_at").notNull(),
});

// ---- operations: what operators did to runs -------------------------------------------------

/**
 * An audit trail of operations on runs (pause, resume, retry, replay, cancel, requeue), from
 * the API and bulk actions. A replay's row links the original to the run it created.
 */
export const runOperations = sqliteTable(
  "run_operations",
  {
    id: text("id").primaryKey(),
    runId: text("run_id").notNull(),
    operation: text("operation").notNull(),
    at: integer("at").notNull(),
    /** A replay: the new run. */
    relatedRunId: text("related_run_id"),
    /** The bulk request the operation was part of. */
    bulkId: text("bulk_id"),
    details: text("details"),
  },
  (table) => [
    index("run_operations_run").on(table.runId, table.at),
    index("run_operations_related").on(table.relatedRunId),
  ],
);

// ---- email trigger -----------------------------------------------------------------------------

/**
 * Messages the email trigger refused (`message.setReject`): no workflow for the address, a
 * sender not allowed, over a limit, unreadable. `GET /api/email/rejections` lists them.
 */
export const emailRejections = sqliteTable(
  "email_rejections",
  {
    id: text("id").primaryKey(),
    receivedAt: integer("received_at").notNull(),
    /** The envelope's sender and recipient. */
    from: text("from_address").notNull(),
    to: text("to_address").notNull(),
    messageId: text("message_id"),
    /** The workflow the address belongs to, when one does. */
    workflowId: text("workflow_id"),
    /** A stable dotted code (`email.no_workflow`, `email.sender_not_allowed`, ...). */
    code: text("code").notNull(),
    /** The reason given to the sending server. */
    reason: text("reason").notNull(),
    size: integer("size").notNull(),
  },
  (table) => [index("email_rejections_received").on(table.receivedAt)],
);

// ---- access: API keys --------------------------------------------------------------------------

/**
 * API keys (`POST /api/keys`). The secret is shown once; only its SHA-256 is kept. A revoked
 * key keeps its row, so the list still says who had access and until when.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** viewer, operator, trigger or admin (src/auth/roles.ts). */
    role: text("role").notNull(),
    /** JSON array of workflow ids the key is limited to; null: every workflow. */
    workflows: text("workflows"),
    secretHash: text("secret_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (table) => [index("api_keys_created").on(table.createdAt)],
);

/**
 * Dashboard sessions ended by signing out before their cookie expired: the cookie alone would
 * still be valid, so a copy of it is checked here. Rows are useless once `expires_at` passes.
 */
export const dashboardSignOuts = sqliteTable("dashboard_sign_outs", {
  sessionId: text("session_id").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
});

// ---- access: the audit trail --------------------------------------------------------------------

/**
 * Every request that changed something, and every refused one (src/routes/audit-trail.ts). Rows
 * are only appended: `seq` is the primary key and each row carries the hash of the row before
 * (`prev_hash`) and its own (`hash`, SHA-256 over a canonical form), so `GET /api/audit/verify`
 * finds a row changed or removed in D1 itself. Two writers that read the same last row cannot
 * both append after it: the second insert fails on `seq` and reads again (src/store/audit-log.ts).
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey(),
    at: integer("at").notNull(),
    /** token, key, access, session:token, session:key, approver, anonymous. */
    actorKind: text("actor_kind").notNull(),
    /** The key's id, `api-token`, an Access email, an approver's address; null when nobody said. */
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    /** `<METHOD> <route>`, such as `POST /api/runs/:id/cancel`. */
    action: text("action").notNull(),
    workflowId: text("workflow_id"),
    runId: text("run_id"),
    status: integer("status").notNull(),
    /** The error code of a refused or failed request; null when it succeeded. */
    code: text("code"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (table) => [
    index("audit_log_at").on(table.at),
    index("audit_log_actor").on(table.actorId, table.seq),
    index("audit_log_run").on(table.runId, table.seq),
    index("audit_log_workflow").on(table.workflowId, table.seq),
  ],
);

// ---- flow control -------------------------------------------------------------------------------

/**
 * Triggers flow control answered without a run (`rate_limited`), counted per workflow and minute:
 * they are not runs, so the metrics count them here.
 */
export const flowRefusals = sqliteTable(
  "flow_refusals",
  {
    workflowId: text("workflow_id").notNull(),
    kind: text("kind").notNull(),
    /** The minute the triggers arrived in (epoch ms, floored). */
    minute: integer("minute").notNull(),
    count: integer("count").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.kind, table.minute] })],
);
