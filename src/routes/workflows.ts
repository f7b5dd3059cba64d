import { type Context, Hono } from "hono";
import { z } from "zod";
import { inScope } from "../auth/roles";
import type { WorkflowDefinition } from "../definition/schema";
import { marksSensitive } from "../definition/sensitive-checks";
import { type DefinitionIssue, validateDefinition } from "../definition/validate";
import { checkWorkflowCalls } from "../definition/workflow-calls";
import type { Env } from "../env";
import { errorData, fail } from "../errors";
import { hashJson } from "../lib/hash";
import type { Json } from "../lib/json";
import { dataKeysSecret } from "../security/data-keys";
import { keyringOf } from "../security/seal";
import { database } from "../store/db";
import { emailConflicts } from "../store/email";
import { getScheduleRow, loadWorkflow, markDeleted, triggerStatements } from "../store/triggers";
import { getVersion, listVersions, listWorkflows, registerVersion } from "../store/workflows";
import { filesBucketName } from "../triggers/r2-events";
import { applySchedule, configFromRow, scheduleStub } from "../triggers/schedules";
import { startRun } from "../triggers/start-run";
import { noteAudit } from "./audit-trail";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { answer, errors, parseBody, queryParam, spec } from "./openapi-spec";
import { limitBody, queryInteger, readJson } from "./request";
import {
  definitionBody,
  noNewRun,
  registered,
  runStarted,
  startRunBody,
  storedWorkflow,
  workflowList,
} from "./workflow-bodies";
import { disableWorkflow, enableWorkflow, stopSchedule } from "./workflow-state";

/** A workflow that marks sensitive data is refused while DATA_KEYS cannot seal it: nothing is ever stored in plain text instead. */
function dataKeysIssue(env: Env, definition: WorkflowDefinition): DefinitionIssue | undefined {
  if (!marksSensitive(definition)) return undefined;
  const ring = keyringOf(env);
  if (!("problem" in ring)) return undefined;
  return {
    code: "definition.data_keys_missing",
    path: ["sensitive"],
    message: `this workflow marks sensitive data, which is sealed with the ${dataKeysSecret} secret: ${ring.problem}; set it with \`wrangler secret put ${dataKeysSecret}\` (docs/security.md#sensitive-data)`,
  };
}

export const workflowRoutes = new Hono<{ Bindings: Env }>();

workflowRoutes.post(
  "/",
  spec({
    summary: "Register a definition as a new immutable version; one equal to the latest version makes none",
    body: definitionBody,
    responses: {
      "201": answer("registered", registered),
      "200": answer("unchanged: the latest version already is this definition", registered),
      ...errors(400, 401, 413, 422),
    },
  }),
  allow("workflows.write"),
  limitBody,
  async (c) => {
    const raw = await readJson(c);
    const result = validateDefinition(raw);
    if (!result.ok) return definitionIssues(c, result.issues);
    const keys = dataKeysIssue(c.env, result.definition);
    if (keys) return definitionIssues(c, [keys]);
    const db = database(c.env.DB);
    // Workflows it calls must exist and must not call back: this needs D1, so it follows the pure checks.
    const calls = await checkWorkflowCalls(result.definition, async (workflowId, version) => {
      const stored = await getVersion(db, workflowId, version);
      return stored && { version: stored.version, definition: stored.definition };
    });
    if (calls.length > 0) return definitionIssues(c, calls);
    const conflicts = await emailConflicts(db, result.definition);
    if (conflicts.length > 0) return definitionIssues(c, conflicts);
    const now = Date.now();
    const hash = await hashJson(result.definition);
    const [previous, scheduleRow] = await Promise.all([
      loadWorkflow(db, result.definition.id),
      getScheduleRow(db, result.definition.id),
    ]);
    const hadSchedule = scheduleRow !== undefined;
    if (previous && previous.deletedAt === null && previous.hash === hash) {
      // The latest version already is this definition: a new one would only re-arm the schedule
      // and rewrite the subscriptions, so nothing is written. A deleted workflow is revived below.
      const live = hadSchedule && previous.disabledAt === null;
      // Only read for the answer: the object the registration left it with runs as it was.
      const schedule = live
        ? await scheduleStub(c.env, previous.workflowId)
            .state()
            .catch(() => null)
        : null;
      return c.json({
        workflowId: previous.workflowId,
        version: previous.version,
        hash,
        createdAt: previous.createdAt,
        unchanged: true,
        ...(schedule ? { schedule: { nextAt: schedule.nextAt } } : {}),
      });
    }
    // Subscriptions and the schedule row commit in the same batch as the version.
    noteAudit(c, { workflowId: result.definition.id });
    const also = triggerStatements(c.env.DB, result.definition, { defaultBucket: filesBucketName(c.env), now });
    let version: number;
    try {
      version = await registerVersion(db, result.definition, hash, now, also);
    } catch (thrown) {
      // Another registration claimed one of its addresses since the check (the unique index held).
      const raced = await emailConflicts(db, result.definition);
      if (raced.length > 0) return definitionIssues(c, raced);
      throw thrown;
    }
    const disabled = previous !== undefined && previous.deletedAt === null && previous.disabledAt !== null;
    const schedule = await applySchedule(c.env, { definition: result.definition, version, hadSchedule, disabled, now });
    return c.json(
      {
        workflowId: result.definition.id,
        version,
        hash,
        createdAt: now,
        ...(schedule ? { schedule: { nextAt: schedule.nextAt } } : {}),
      },
      201,
    );
  },
);

workflowRoutes.get(
  "/",
  spec({
    summary: "List workflows",
    responses: { "200": answer("workflows", workflowList), ...errors(401) },
  }),
  allow("workflows.read", { filtered: true }),
  async (c) => {
    const principal = c.get("principal");
    const rows = (await listWorkflows(database(c.env.DB))).filter(
      (row) => row.deletedAt === null && inScope(principal, row.id),
    );
    return c.json({
      workflows: rows.map((row) => ({
        workflowId: row.id,
        name: row.name,
        latestVersion: row.latestVersion,
        enabled: row.disabledAt === null,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      })),
    });
  },
);

workflowRoutes.get(
  "/:id",
  spec({
    summary: "One definition, latest or ?version=N, with its versions",
    parameters: [queryParam("version", { type: "integer", minimum: 1 })],
    responses: { "200": answer("definition", storedWorkflow), ...errors(400, 401, 404) },
  }),
  allow("workflows.read", { workflow: "id" }),
  async (c) => {
    const workflowId = c.req.param("id");
    const version = queryInteger(c, "version", { min: 1 });
    const db = database(c.env.DB);
    const current = await loadWorkflow(db, workflowId);
    if (!current || current.deletedAt !== null) fail("workflow.not_found", `no workflow ${workflowId}`);
    const stored = await getVersion(db, workflowId, version);
    if (!stored) {
      if (version !== undefined && (await getVersion(db, workflowId))) {
        fail("workflow.version_not_found", `workflow ${workflowId} has no version ${version}`);
      }
      fail("workflow.not_found", `no workflow ${workflowId}`);
    }
    return c.json({ ...stored, enabled: current.disabledAt === null, versions: await listVersions(db, workflowId) });
  },
);

workflowRoutes.post(
  "/:id/runs",
  spec({
    summary: "Start a run (manual trigger); an Idempotency-Key header works like idempotencyKey",
    bodyOptional: true,
    body: startRunBody,
    responses: {
      "202": answer("queued, or debounced (flow.debounce: the run starts once the key is quiet)", runStarted),
      "200": answer(noNewRun, runStarted),
      ...errors(400, 401, 404, 409, 413, 422),
    },
  }),
  allow("runs.start", { workflow: "id" }),
  limitBody,
  async (c) => {
    const { input = {}, idempotencyKey } = parseBody(startRunBody, await readJson(c, { allowEmpty: true }));
    const headerKey = c.req.header("idempotency-key");
    const result = await startRun(c.env, {
      workflowId: c.req.param("id"),
      triggerType: "manual",
      input: input as Json,
      idempotencyKey: idempotencyKey ?? headerKey,
      receivedAt: Date.now(),
    });
    return c.json(result, result.status === "queued" || result.status === "debounced" ? 202 : 200);
  },
);

/** Deletes a workflow: no trigger starts it any more, its schedule stops, its runs stay. */
workflowRoutes.delete(
  "/:id",
  spec({
    summary: "Delete: triggers stop starting runs and the schedule stops; runs and versions stay",
    responses: {
      "200": answer("deleted", z.object({ workflowId: z.string(), deleted: z.literal(true) })),
      ...errors(401, 404),
    },
  }),
  allow("workflows.write"),
  async (c) => {
    const workflowId = c.req.param("id");
    const db = database(c.env.DB);
    const hadSchedule = (await getScheduleRow(db, workflowId)) !== undefined;
    if (!(await markDeleted(db, workflowId, Date.now()))) fail("workflow.not_found", `no workflow ${workflowId}`);
    if (hadSchedule) await stopSchedule(c.env, workflowId);
    return c.json({ workflowId, deleted: true });
  },
);

/** Disabling keeps the workflow and its versions but starts nothing; its schedule stops. */
workflowRoutes.post(
  "/:id/disable",
  spec({
    summary: "Disable: no trigger starts a run, the schedule stops",
    responses: {
      "200": answer("disabled", z.object({ workflowId: z.string(), enabled: z.literal(false) })),
      ...errors(401, 404),
    },
  }),
  allow("workflows.write"),
  async (c) => {
    const workflowId = c.req.param("id");
    if (!(await disableWorkflow(c.env, workflowId))) fail("workflow.not_found", `no workflow ${workflowId}`);
    return c.json({ workflowId, enabled: false });
  },
);

/** Enabling starts the schedule again from its next tick; ticks while disabled are not caught up. */
workflowRoutes.post(
  "/:id/enable",
  spec({
    summary: "Enable again: the schedule resumes from its next tick",
    responses: {
      "200": answer(
        "enabled",
        z.object({
          workflowId: z.string(),
          enabled: z.literal(true),
          schedule: z.object({ nextAt: z.number() }).optional(),
        }),
      ),
      ...errors(401, 404),
    },
  }),
  allow("workflows.write"),
  async (c) => {
    const workflowId = c.req.param("id");
    const enabled = await enableWorkflow(c.env, workflowId);
    if (!enabled) fail("workflow.not_found", `no workflow ${workflowId}`);
    return c.json({
      workflowId,
      enabled: true,
      ...(enabled.nextAt !== null ? { schedule: { nextAt: enabled.nextAt } } : {}),
    });
  },
);

/** The schedule as its object runs it: next tick, armed alarm, a pending retry, recent ticks. */
workflowRoutes.get(
  "/:id/schedule",
  spec({
    summary: "The workflow's schedule: cron, policy, next tick, armed alarm, recent ticks",
    responses: { "200": answer("schedule"), ...errors(401, 404) },
  }),
  allow("workflows.read", { workflow: "id" }),
  async (c) => {
    const workflowId = c.req.param("id");
    const db = database(c.env.DB);
    const workflow = await loadWorkflow(db, workflowId);
    if (!workflow || workflow.deletedAt !== null) fail("workflow.not_found", `no workflow ${workflowId}`);
    const row = await getScheduleRow(db, workflowId);
    if (!row) fail("schedule.not_found", `workflow ${workflowId} has no schedule trigger`);
    const state = workflow.disabledAt === null ? await scheduleStub(c.env, workflowId).state() : null;
    return c.json({
      ...configFromRow(row),
      enabled: workflow.disabledAt === null,
      nextAt: state?.nextAt ?? null,
      lastTickAt: state?.lastTickAt ?? row.lastTickAt,
      alarmAt: state?.alarmAt ?? null,
      pending: state?.pending ?? null,
      recent: state?.recent ?? [],
    });
  },
);

function definitionIssues(c: Context, issues: DefinitionIssue[]): Response {
  const first = issues[0];
  const message = first ? `${first.message} (at ${first.path.join(".") || "/"})` : "invalid definition";
  // The first issue's code leads; every issue, with its path, is in details.
  return errorResponse(c, errorData(first?.code ?? "definition.invalid", message, { details: { issues } }));
}
