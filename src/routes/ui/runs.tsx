import { isNull } from "drizzle-orm";
import { Hono } from "hono";
import { isRunId } from "../../lib/ids";
import { database } from "../../store/db";
import { countRunsByStatus, findRunRow, searchRuns } from "../../store/run-search";
import { workflows } from "../../store/schema";
import { RunRow } from "../../ui/pages/runs/run-row";
import { RunsPage } from "../../ui/pages/runs/runs-page";
import { canOf } from "./page-permissions";
import { parseRunFilters } from "./run-filters";
import type { UiEnv } from "./types";

export const runsPageSize = 50;

/** The runs list, and the row fragment that active rows poll. */
export const runListRoutes = new Hono<UiEnv>();

runListRoutes.get("/runs", async (c) => {
  const db = database(c.env.DB);
  const filters = parseRunFilters(c.req.query());
  const [page, counts, workflowRows] = await Promise.all([
    searchRuns(db, filters.search, { limit: runsPageSize, ...(filters.cursor ? { cursor: filters.cursor } : {}) }),
    countRunsByStatus(db, filters.search),
    db.select({ id: workflows.id }).from(workflows).where(isNull(workflows.deletedAt)).orderBy(workflows.id).limit(500),
  ]);
  return c.html(
    <RunsPage
      filters={filters}
      runs={page.runs}
      nextCursor={page.nextCursor}
      counts={counts}
      workflows={workflowRows.map((row) => row.id)}
      origin={new URL(c.req.url).origin}
      now={Date.now()}
      csrf={c.get("csrf")}
      can={canOf(c)}
    />,
  );
});

/** One row, fresh from D1; a run deleted since answers nothing, which removes its row. */
runListRoutes.get("/runs/:runId/row", async (c) => {
  const runId = c.req.param("runId");
  const run = isRunId(runId) ? await findRunRow(database(c.env.DB), runId) : undefined;
  if (!run) return c.body(null, 200);
  return c.html(<RunRow run={run} now={Date.now()} selectable={c.req.query("select") === "1"} />);
});
