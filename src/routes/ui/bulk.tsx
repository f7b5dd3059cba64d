import { type Context, Hono } from "hono";
import { isRunId } from "../../lib/ids";
import type { Json, JsonObject } from "../../lib/json";
import { MessagePage } from "../../ui/pages/message-page";
import { bulkFilterValues } from "../../ui/pages/runs/bulk-form";
import { BulkOutcomePage, BulkPreviewPage } from "../../ui/pages/runs/bulk-page";
import { bulkAction, bulkActions, maxRunIds } from "../bulk";
import { canOf, notAllowedPage } from "./page-permissions";
import { parseRunFilters, runsHref } from "./run-filters";
import type { UiEnv } from "./types";

/**
 * Bulk actions on the runs ticked in the list, or with none ticked on the runs the list's filters
 * match, through the bulk API: a dry run first, then the real one.
 */
export const bulkRoutes = new Hono<UiEnv>();

interface BulkRequest {
  action: string;
  filters: Record<string, string>;
  runIds: string[];
  body: JsonObject;
}

/**
 * The ticked runs (`runId`, repeated) or else the values as the runs list checks them, turned
 * into the bulk API's filter; a problem if nothing usable. The filters ride along for the links back.
 */
function bulkRequest(values: Record<string, string>, ticked: string[]): BulkRequest | { problem: string } {
  const action = values.action ?? "";
  if (!(bulkActions as readonly string[]).includes(action)) {
    return { problem: `Choose one of ${bulkActions.join(", ")}.` };
  }
  const parsed = parseRunFilters(values);
  if (parsed.problems.length > 0) return { problem: parsed.problems.join("; ") };
  const filters = bulkFilterValues(parsed.values);
  const runIds = [...new Set(ticked)];
  if (runIds.length > 0) {
    if (runIds.length > maxRunIds) return { problem: `Tick at most ${maxRunIds} runs at once.` };
    const bad = runIds.find((runId) => !isRunId(runId));
    if (bad !== undefined) return { problem: `Not a run id: ${bad}.` };
    const body: JsonObject = { action, filter: { runIds } };
    if (action === "rerun" && values.latest === "true") body.version = "latest";
    return { action, filters, runIds, body };
  }
  const { search } = parsed;
  const filter: Record<string, Json> = {};
  if (search.workflowId) filter.workflow = search.workflowId;
  if (search.status) filter.status = search.status;
  if (search.errorCode) filter.errorCode = search.errorCode;
  if (search.createdFrom !== undefined) filter.from = search.createdFrom;
  // The list's "until" includes its instant; the bulk API's `to` excludes it. Times are whole
  // milliseconds, so the next one makes them match the same runs.
  if (search.createdTo !== undefined) filter.to = search.createdTo + 1;
  if (Object.keys(filter).length === 0) {
    return { problem: "A bulk action needs ticked runs, or a filter by workflow, status, error code or time." };
  }
  const body: JsonObject = { action, filter, limit: 100 };
  if (action === "rerun" && values.latest === "true") body.version = "latest";
  return { action, filters, runIds: [], body };
}

function refused(c: Context<UiEnv>, problem: string) {
  return c.html(
    <MessagePage title="Bulk action not possible" message={problem} csrf={c.get("csrf")} section="runs">
      <p>
        <a href="/ui/runs">Back to the runs</a>
      </p>
    </MessagePage>,
    400,
  );
}

bulkRoutes.get("/runs/bulk", async (c) => {
  // The preview leads only to the action: a role that may not act is told so here.
  if (!canOf(c)("runs.act")) return notAllowedPage(c, "runs.act");
  const request = bulkRequest(c.req.query(), c.req.queries("runId") ?? []);
  if ("problem" in request) return refused(c, request.problem);
  const preview = await bulkAction(c.env, { ...request.body, dryRun: true });
  if (!("wouldAct" in preview)) return refused(c, "The bulk API did not answer with a preview.");
  return c.html(
    <BulkPreviewPage
      preview={preview}
      filters={request.filters}
      runIds={request.runIds}
      backHref={runsHref(request.filters, {})}
      csrf={c.get("csrf")}
    />,
  );
});

bulkRoutes.post("/runs/bulk", async (c) => {
  const form = await c.req.formData();
  const values = Object.fromEntries(
    [...form.entries()].flatMap(([key, value]) => (typeof value === "string" ? [[key, value]] : [])),
  );
  const ticked = form.getAll("runId").filter((value) => typeof value === "string");
  const request = bulkRequest(values, ticked);
  if ("problem" in request) return refused(c, request.problem);
  const outcome = await bulkAction(c.env, request.body);
  if (!("bulkId" in outcome)) return refused(c, "The bulk API did not act.");
  return c.html(<BulkOutcomePage outcome={outcome} backHref={runsHref(request.filters, {})} csrf={c.get("csrf")} />);
});
