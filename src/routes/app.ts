import { Hono } from "hono";
import type { Env } from "../env";
import { errorData } from "../errors";
import { approvalRoutes } from "./approvals";
import { auditRoutes } from "./audit";
import { auditTrail } from "./audit-trail";
import { allow, requireApiToken } from "./auth";
import { benchRoutes } from "./bench";
import { deadLetterRoutes } from "./dead-letters";
import { emailRoutes } from "./email";
import { eventRoutes } from "./events";
import { fileRoutes } from "./files";
import { hookRoutes } from "./hooks";
import { errorResponse, handleError } from "./http-errors";
import { keyRoutes } from "./keys";
import { metricsRoutes } from "./metrics";
import { openApiDocument } from "./openapi";
import { outboxRoutes } from "./outbox";
import { runEventRoutes } from "./run-events";
import { runOperationRoutes } from "./run-operations";
import { runRoutes } from "./runs";
import { securityHeaders } from "./security-headers";
import { dashboardRoutes } from "./ui/dashboard";
import { workflowSchemaRoutes } from "./workflow-schema";
import { workflowTestRoutes } from "./workflow-test";
import { workflowRoutes } from "./workflows";

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();
  app.onError(handleError);
  app.use("*", securityHeaders);
  app.notFound((c) => errorResponse(c, errorData("route.not_found", `no route ${c.req.method} ${c.req.path}`)));

  // A browser asking for the root gets the dashboard; API clients get the map of the API.
  app.get("/", (c) => {
    if (/\btext\/html\b/.test(c.req.header("accept") ?? "")) return c.redirect("/ui/", 303);
    return c.json({
      name: "Signalbox",
      api: `${new URL(c.req.url).origin}/api`,
      hooks: `${new URL(c.req.url).origin}/hooks/:workflowId`,
    });
  });
  app.get("/health", (c) => c.json({ ok: true }));
  app.use("*", auditTrail);

  app.route("/api/schema", workflowSchemaRoutes);
  app.use("/api/*", requireApiToken);
  app.get("/api/openapi.json", allow("api.read", { filtered: true }), (c) => c.json(openApiDocument));
  app.route("/api/keys", keyRoutes);
  app.route("/api/audit", auditRoutes);
  app.route("/api/workflows", workflowRoutes);
  app.route("/api/runs", runRoutes);
  app.route("/api/runs", runEventRoutes);
  app.route("/api/outbox", outboxRoutes);
  app.route("/api/email", emailRoutes);
  app.route("/approvals", approvalRoutes);
  app.route("/api/events", eventRoutes);
  app.route("/api/files", fileRoutes);
  app.route("/hooks", hookRoutes);
  // Operations: retry, replay, pause and resume, bulk actions, dead letters, metrics, dry runs.
  app.route("/api/runs", runOperationRoutes);
  app.route("/api/dead-letters", deadLetterRoutes);
  app.route("/api/metrics", metricsRoutes);
  app.route("/api/workflows", workflowTestRoutes);
  app.route("/api/__bench", benchRoutes);
  app.route("/ui", dashboardRoutes);
  return app;
}
