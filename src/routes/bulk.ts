import { runStatuses } from "../engine/state";
import type { Env } from "../env";
import { type ErrorData, fail } from "../errors";
import { isRunId, sortableId } from "../lib/ids";
import type { Json } from "../lib/json";
import { type RunSelector, type SelectedRun, selectRuns } from "../store/operations";
import { isObject } from "./request";
import { type ActionResult, cancelRun, pauseRun, resumeRun, retryRun } from "./run-actions";

/**
 * Bulk actions: rerun, cancel, pause or resume every run a filter matches. A dry run lists the
 * matching runs and what would happen to each; the real one does it, run by run, and reports
 * each outcome. Runs are chosen from D1 (which trails the runs a little); each run's object
 * decides for itself, so a run that moved on since is refused with its code, not acted on.
 */
export const bulkActions = ["rerun", "cancel", "pause", "resume"] as const;
type BulkAction = (typeof bulkActions)[number];

const maxLimit = 500;
export const maxRunIds = 200;
const concurrency = 8;

function time(value: Json | undefined, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const at = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) fail("request.invalid", `filter.${name} must be an ISO time or epoch milliseconds`);
  return at;
}

function text(value: Json | undefined, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "") fail("request.invalid", `filter.${name} must be a non-empty string`);
  return value;
}

function runIds(value: Json | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail("request.invalid", "filter.runIds must be an array of run ids");
  if (value.length === 0) fail("request.invalid", "filter.runIds must name at least one run");
  if (value.length > maxRunIds) fail("request.invalid", `filter.runIds takes at most ${maxRunIds} run ids`);
  const bad = value.findIndex((id) => typeof id !== "string" || !isRunId(id));
  if (bad >= 0) fail("request.invalid", `filter.runIds[${bad}] is not a run id: ${JSON.stringify(value[bad])}`);
  return [...new Set(value as string[])];
}

export function parseSelector(raw: Json | undefined, limit: number, limitGiven = true): RunSelector {
  if (!isObject(raw))
    fail(
      "bulk.filter_empty",
      "a bulk action needs a filter {runIds, workflow, version, status, failedNode, errorCode, from, to}",
    );
  const selector: RunSelector = { limit };
  const workflowId = text(raw.workflow, "workflow");
  if (workflowId !== undefined) selector.workflowId = workflowId;
  if (raw.version !== undefined && raw.version !== null) {
    if (typeof raw.version !== "number" || !Number.isInteger(raw.version) || raw.version < 1) {
      fail("request.invalid", "filter.version must be a version number");
    }
    selector.version = raw.version;
  }
  const status = text(raw.status, "status");
  if (status !== undefined) {
    if (!(runStatuses as readonly string[]).includes(status)) {
      fail("request.invalid", `filter.status must be one of ${runStatuses.join(", ")}`);
    }
    selector.status = status;
  }
  const failedNode = text(raw.failedNode, "failedNode");
  if (failedNode !== undefined) selector.failedNode = failedNode;
  const errorCode = text(raw.errorCode, "errorCode");
  if (errorCode !== undefined) selector.errorCode = errorCode;
  const from = time(raw.from, "from");
  if (from !== undefined) selector.from = from;
  const to = time(raw.to, "to");
  if (to !== undefined) selector.to = to;
  const ids = runIds(raw.runIds);
  if (ids !== undefined) {
    selector.runIds = ids;
    // A list of runs is matched whole unless the request set its own limit.
    if (!limitGiven) selector.limit = Math.max(limit, ids.length);
  }
  const known = ["runIds", "workflow", "version", "status", "failedNode", "errorCode", "from", "to"];
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length > 0) fail("request.invalid", `unknown filter fields: ${unknown.join(", ")}`);
  if (Object.keys(selector).length === 1) {
    fail("bulk.filter_empty", "the filter names nothing to match: acting on every run takes at least one field");
  }
  return selector;
}

/** What the action would do to a run as D1 last saw it. */
function plan(action: BulkAction, run: SelectedRun): { will: string; reason?: string } {
  const ended = run.status === "success" || run.status === "failed" || run.status === "cancelled";
  switch (action) {
    case "rerun":
      return run.status === "failed" ? { will: "retry" } : { will: "skip", reason: "run.not_failed" };
    case "cancel":
      return ended ? { will: "skip", reason: "run.not_active" } : { will: "cancel" };
    case "pause":
      if (ended) return { will: "skip", reason: "run.not_active" };
      return run.status === "paused" ? { will: "skip", reason: "run.already_paused" } : { will: "pause" };
    case "resume":
      return run.status === "paused" ? { will: "resume" } : { will: "skip", reason: "run.not_paused" };
  }
}

async function perform(
  env: Env,
  action: BulkAction,
  runId: string,
  bulkId: string,
  version: "latest" | number | undefined,
): Promise<ActionResult<{ status: string }>> {
  switch (action) {
    case "rerun":
      return retryRun(env, runId, version === undefined ? {} : { version }, { bulkId });
    case "cancel":
      return cancelRun(env, runId, { bulkId });
    case "pause":
      return pauseRun(env, runId, { reason: `bulk ${bulkId}` }, { bulkId });
    case "resume":
      return resumeRun(env, runId, { bulkId });
  }
}

export async function bulkAction(env: Env, body: Json) {
  if (!isObject(body)) fail("request.invalid", "expected a JSON object {action, filter, dryRun?, limit?, version?}");
  const action = body.action;
  if (typeof action !== "string" || !(bulkActions as readonly string[]).includes(action)) {
    fail("request.invalid", `action must be one of ${bulkActions.join(", ")}`);
  }
  const limit = body.limit === undefined ? 100 : body.limit;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    fail("request.invalid", `limit must be an integer from 1 to ${maxLimit}`);
  }
  const dryRun = body.dryRun === undefined ? false : body.dryRun;
  if (typeof dryRun !== "boolean") fail("request.invalid", "dryRun must be a boolean");
  let version: "latest" | number | undefined;
  if (body.version !== undefined) {
    if (action !== "rerun") fail("request.invalid", "version applies to rerun only");
    if (body.version !== "latest" && !(typeof body.version === "number" && Number.isInteger(body.version))) {
      fail("request.invalid", 'version must be "latest" or a version number');
    }
    version = body.version as "latest" | number;
  }
  const selector = parseSelector(body.filter, limit, body.limit !== undefined);
  const { runs, truncated } = await selectRuns(env.DB, selector);
  const planned = runs.map((run) => ({ ...run, plan: plan(action as BulkAction, run) }));
  const summary = { matched: runs.length, truncated, action, dryRun };
  if (dryRun) {
    return { ...summary, wouldAct: planned.filter((run) => run.plan.will !== "skip").length, runs: planned };
  }
  const bulkId = sortableId("bulk");
  const results: { runId: string; outcome: "done" | "skipped" | "refused"; status?: string; error?: ErrorData }[] = [];
  const queue = [...planned];
  async function worker(): Promise<void> {
    for (let run = queue.shift(); run; run = queue.shift()) {
      if (run.plan.will === "skip") {
        results.push({ runId: run.runId, outcome: "skipped", status: run.status });
        continue;
      }
      const result = await perform(env, action as BulkAction, run.runId, bulkId, version);
      results.push(
        result.ok
          ? { runId: run.runId, outcome: "done", status: result.value.status }
          : { runId: run.runId, outcome: "refused", error: result.error },
      );
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  const order = new Map(planned.map((run, index) => [run.runId, index]));
  results.sort((a, b) => (order.get(a.runId) ?? 0) - (order.get(b.runId) ?? 0));
  return {
    ...summary,
    bulkId,
    done: results.filter((result) => result.outcome === "done").length,
    skipped: results.filter((result) => result.outcome === "skipped").length,
    refused: results.filter((result) => result.outcome === "refused").length,
    runs: results,
  };
}
