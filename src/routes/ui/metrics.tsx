import { isNull } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../store/db";
import { readMetrics } from "../../store/metrics";
import { runSeries } from "../../store/metrics-series";
import { workflows } from "../../store/schema";
import { MetricsPage, type MetricWindow, metricWindows } from "../../ui/pages/metrics/metrics-page";
import { metricsReport } from "../metrics-format";
import type { UiEnv } from "./types";

const windowMs: Record<MetricWindow, number> = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 604_800_000,
  "30d": 2_592_000_000,
};

function isWindow(value: string | undefined): value is MetricWindow {
  return value !== undefined && Object.hasOwn(metricWindows, value);
}

/** Metrics as `GET /api/metrics` computes them, with runs and LLM spend over time. */
export const metricsPageRoutes = new Hono<UiEnv>();

metricsPageRoutes.get("/metrics", async (c) => {
  const problems: string[] = [];
  const param = c.req.query("window");
  const window: MetricWindow = isWindow(param) ? param : "24h";
  if (param && !isWindow(param)) problems.push(`window: one of ${Object.keys(metricWindows).join(", ")}; showing 24h`);
  const workflowParam = c.req.query("workflow")?.trim();
  const workflow = workflowParam && workflowParam.length <= 200 ? workflowParam : undefined;
  if (workflowParam && !workflow) problems.push("workflow: too long; ignored");
  const ms = windowMs[window];
  const bucketMs = metricWindows[window];
  // Buckets end at the next bucket boundary, so a bar covers a whole interval.
  const to = Math.ceil((Date.now() + 1) / bucketMs) * bucketMs;
  const from = to - ms;
  const filter = workflow ? { workflowId: workflow } : {};
  const [raw, series, workflowRows] = await Promise.all([
    readMetrics(c.env.DB, { since: from, until: to, ...filter }),
    runSeries(c.env.DB, { since: from, until: to, bucketMs, ...filter }),
    database(c.env.DB)
      .select({ id: workflows.id })
      .from(workflows)
      .where(isNull(workflows.deletedAt))
      .orderBy(workflows.id)
      .limit(500),
  ]);
  const report = metricsReport(raw, { param: window, ms, from, to }, workflow);
  return c.html(
    <MetricsPage
      report={report}
      series={series}
      window={window}
      workflows={workflowRows.map((row) => row.id)}
      problems={problems}
      csrf={c.get("csrf")}
      {...(workflow ? { workflow } : {})}
    />,
  );
});
