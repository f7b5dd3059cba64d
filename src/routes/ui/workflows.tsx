import { type Context, Hono } from "hono";
import { errorStatus, toErrorData } from "../../errors";
import type { Json } from "../../lib/json";
import { diffJson } from "../../lib/json-diff";
import { database } from "../../store/db";
import { searchRuns } from "../../store/run-search";
import { schedules } from "../../store/schema";
import { getScheduleRow, loadWorkflow } from "../../store/triggers";
import { getVersion, listVersions, listWorkflows } from "../../store/workflows";
import { startRun } from "../../triggers/start-run";
import { layoutGraph } from "../../ui/graph/dag-layout";
import { MessagePage } from "../../ui/pages/message-page";
import type { Trial } from "../../ui/pages/workflows/trial";
import { WorkflowPage } from "../../ui/pages/workflows/workflow-page";
import { WorkflowsPage } from "../../ui/pages/workflows/workflows-page";
import { disableWorkflow, enableWorkflow } from "../workflow-state";
import { testWorkflow } from "../workflow-test";
import { canOf } from "./page-permissions";
import type { UiEnv } from "./types";

/** The workflows list, one workflow's page, starting a run, enabling and disabling. */
export const workflowPageRoutes = new Hono<UiEnv>();

workflowPageRoutes.get("/workflows", async (c) => {
  const db = database(c.env.DB);
  const [rows, ticks] = await Promise.all([
    listWorkflows(db),
    db.select({ workflowId: schedules.workflowId, nextAt: schedules.nextAt }).from(schedules),
  ]);
  const next = new Map(ticks.map((row) => [row.workflowId, row.nextAt]));
  const live = rows.filter((row) => row.deletedAt === null);
  const definitions = await Promise.all(live.map((row) => getVersion(db, row.id, row.latestVersion)));
  return c.html(
    <WorkflowsPage
      csrf={c.get("csrf")}
      workflows={live.map((row, index) => ({
        id: row.id,
        name: row.name,
        latestVersion: row.latestVersion,
        enabled: row.disabledAt === null,
        updatedAt: row.updatedAt,
        triggers: definitions[index]?.definition.triggers.map((trigger) => trigger.type) ?? [],
        nextTick: row.disabledAt === null ? (next.get(row.id) ?? null) : null,
      }))}
    />,
  );
});

function notFound(c: Context<UiEnv>, workflowId: string) {
  return c.html(
    <MessagePage
      title="Workflow not found"
      message={`There is no workflow ${workflowId.slice(0, 200)}. It may have been deleted, or the id is mistyped.`}
      csrf={c.get("csrf")}
      section="workflows"
    >
      <p>
        <a href="/ui/workflows">See every workflow</a>
      </p>
    </MessagePage>,
    404,
  );
}

/** The manual trigger's first schema example: the start form's and the dry run's starting input. */
function exampleInput(triggers: { type: string; schema?: Record<string, unknown> | undefined }[]): unknown {
  const manual = triggers.find((trigger) => trigger.type === "manual");
  const examples = manual?.schema?.examples;
  return (Array.isArray(examples) ? examples[0] : undefined) ?? {};
}

async function renderWorkflow(
  c: Context<UiEnv>,
  workflowId: string,
  options: {
    version?: number;
    compare?: { from: number; to: number };
    start?: { input: string; error?: string };
    trial?: { request: string; result?: Trial };
    status?: 200 | 422;
  } = {},
) {
  if (workflowId.length > 200) return notFound(c, workflowId);
  const db = database(c.env.DB);
  const current = await loadWorkflow(db, workflowId);
  if (!current || current.deletedAt !== null) return notFound(c, workflowId);
  const stored =
    (options.version !== undefined ? await getVersion(db, workflowId, options.version) : undefined) ?? current;
  const [versions, runs, schedule] = await Promise.all([
    listVersions(db, workflowId),
    searchRuns(db, { workflowId }, { limit: 10 }),
    getScheduleRow(db, workflowId),
  ]);
  const graph = layoutGraph(
    stored.definition.nodes.map((node) => ({ id: node.id, type: node.type, status: "defined", detail: node.type })),
    stored.definition.edges.map((edge) => ({ ...edge, state: "pending" as const })),
  );
  const notice = c.req.query("did");
  const example = exampleInput(current.definition.triggers);
  const compare = options.compare;
  const [before, after] = compare
    ? await Promise.all([getVersion(db, workflowId, compare.from), getVersion(db, workflowId, compare.to)])
    : [undefined, undefined];
  const diff =
    compare && before && after
      ? {
          from: before.version,
          to: after.version,
          changes: diffJson(asJson(before.definition), asJson(after.definition)),
        }
      : undefined;
  return c.html(
    <WorkflowPage
      definition={stored.definition}
      version={stored.version}
      latestVersion={current.version}
      enabled={current.disabledAt === null}
      versions={versions}
      graph={graph}
      runs={runs.runs}
      nextTick={current.disabledAt === null ? (schedule?.nextAt ?? null) : null}
      origin={new URL(c.req.url).origin}
      now={Date.now()}
      start={options.start ?? { input: JSON.stringify(example, null, 2) }}
      trial={options.trial ?? { request: JSON.stringify({ input: example, mocks: {} }, null, 2) }}
      csrf={c.get("csrf")}
      can={canOf(c)}
      {...(notice === "enable" || notice === "disable" ? { notice: `The workflow is ${notice}d.` } : {})}
      {...(diff ? { diff } : {})}
    />,
    options.status ?? 200,
  );
}

/** A version number from the query, or undefined for anything else. */
function versionParam(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** A stored definition is JSON through and through; the diff takes it as such. */
function asJson(definition: unknown): Json {
  return JSON.parse(JSON.stringify(definition)) as Json;
}

workflowPageRoutes.get("/workflows/:id", async (c) => {
  const version = versionParam(c.req.query("version"));
  const from = versionParam(c.req.query("from"));
  const to = versionParam(c.req.query("to"));
  return renderWorkflow(c, c.req.param("id"), {
    ...(version === undefined ? {} : { version }),
    ...(from !== undefined && to !== undefined ? { compare: { from, to } } : {}),
  });
});

workflowPageRoutes.post("/workflows/:id/runs", async (c) => {
  const workflowId = c.req.param("id");
  const form = await c.req.formData();
  const text = form.get("input");
  const inputText = typeof text === "string" ? text : "";
  let input: Json;
  try {
    input = inputText.trim() === "" ? {} : (JSON.parse(inputText) as Json);
  } catch (thrown) {
    const error = `The input is not valid JSON: ${(thrown as Error).message}`;
    return renderWorkflow(c, workflowId, { start: { input: inputText, error }, status: 422 });
  }
  try {
    const started = await startRun(c.env, { workflowId, triggerType: "manual", input, receivedAt: Date.now() });
    if (started.status === "rate_limited") {
      const error = "The workflow's rate limit refused this start: nothing was started. Try again later.";
      return renderWorkflow(c, workflowId, { start: { input: inputText, error }, status: 200 });
    }
    if (started.status === "debounced") {
      const at = new Date(started.startsAt).toISOString();
      const error = `Debounced: run ${started.runId} starts at ${at} with the last input given by then.`;
      return renderWorkflow(c, workflowId, { start: { input: inputText, error }, status: 200 });
    }
    return c.redirect(`/ui/runs/${started.runId}`, 303);
  } catch (thrown) {
    const error = toErrorData(thrown);
    if (error.code === "workflow.not_found") return notFound(c, workflowId);
    if (errorStatus[error.code] >= 500) throw thrown;
    // An input the trigger's schema refuses, a disabled workflow: said in the form, nothing started.
    return renderWorkflow(c, workflowId, { start: { input: inputText, error: error.message }, status: 422 });
  }
});

workflowPageRoutes.post("/workflows/:id/:change{enable|disable}", async (c) => {
  const workflowId = c.req.param("id");
  const change = c.req.param("change");
  const done = change === "enable" ? await enableWorkflow(c.env, workflowId) : await disableWorkflow(c.env, workflowId);
  if (!done) return notFound(c, workflowId);
  return c.redirect(`/ui/workflows/${encodeURIComponent(workflowId)}?did=${change}`, 303);
});

/** A dry run or the test cases, shown in the workflow's page; nothing is sent or recorded. */
workflowPageRoutes.post("/workflows/:id/test", async (c) => {
  const workflowId = c.req.param("id");
  const form = await c.req.formData();
  const text = form.get("request");
  const request = typeof text === "string" ? text : "";
  const mode = form.get("mode") === "tests" ? "tests" : "dry-run";
  const show = (result: Trial, status: 200 | 422 = 200) =>
    renderWorkflow(c, workflowId, { trial: { request, result }, status });
  let body: Json = {};
  if (mode === "dry-run" && request.trim() !== "") {
    try {
      body = JSON.parse(request) as Json;
    } catch (thrown) {
      return show({ kind: "error", message: `The request is not valid JSON: ${(thrown as Error).message}` }, 422);
    }
  }
  try {
    const result = await testWorkflow(c.env, workflowId, mode === "tests" ? { tests: true } : body);
    if (!result.ok) return show({ kind: "error", message: result.error.message }, 422);
    return show(
      "results" in result.value ? { kind: "tests", result: result.value } : { kind: "dry-run", report: result.value },
    );
  } catch (thrown) {
    const error = toErrorData(thrown);
    if (error.code === "workflow.not_found") return notFound(c, workflowId);
    if (errorStatus[error.code] >= 500) throw thrown;
    return show({ kind: "error", message: error.message }, 422);
  }
});
