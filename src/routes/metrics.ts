import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { parseDuration } from "../lib/duration";
import { readLimits } from "../limits/view";
import { readMetrics } from "../store/metrics";
import { allow } from "./auth";
import { limitMetrics, metricsReport, prometheusText } from "./metrics-format";
import { answer, errors, queryParam, spec } from "./openapi-spec";

/**
 * `GET /api/metrics?window=1h&workflow=`: figures over the runs created in the window, from D1.
 * JSON by default; Prometheus text with `Accept: text/plain` (or `?format=prometheus`).
 */
export const metricsRoutes = new Hono<{ Bindings: Env }>();

const maxWindowMs = 90 * 86_400_000;

function wantsText(accept: string | undefined, format: string | undefined): boolean {
  if (format !== undefined) {
    if (format === "prometheus" || format === "text") return true;
    if (format === "json") return false;
    fail("request.invalid", "format must be json or prometheus");
  }
  if (!accept) return false;
  const text = accept.indexOf("text/plain");
  const json = accept.indexOf("application/json");
  return text !== -1 && (json === -1 || text < json);
}

metricsRoutes.get(
  "/",
  spec({
    summary:
      "Runs by status, rates, queue lag, step and attempt percentiles, retries, dead letters, circuit states and limit deferrals; JSON or Prometheus text (Accept: text/plain)",
    parameters: [
      queryParam("window", { type: "string", default: "1h" }),
      queryParam("workflow"),
      queryParam("format", { enum: ["json", "prometheus", "text"] }),
    ],
    responses: { "200": answer("metrics"), ...errors(400, 401) },
  }),
  allow("runs.read"),
  async (c) => {
    const { window: param = "1h", workflow, format } = c.req.query();
    const ms = parseDuration(param);
    if (ms === undefined || ms <= 0 || ms > maxWindowMs) {
      fail("metrics.window_invalid", "window must be a duration from 1ms to 90d, such as 15m, 1h or 7d", {
        details: { window: param },
      });
    }
    const to = Date.now() + 1;
    const from = to - 1 - ms;
    const [raw, limits] = await Promise.all([
      readMetrics(c.env.DB, { since: from, until: to, ...(workflow ? { workflowId: workflow } : {}) }),
      readLimits(c.env),
    ]);
    const report = metricsReport(raw, { param, ms, from, to }, workflow || undefined, limitMetrics(limits.limits));
    if (wantsText(c.req.header("accept"), format)) {
      return c.body(prometheusText(report), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    }
    return c.json(report);
  },
);
