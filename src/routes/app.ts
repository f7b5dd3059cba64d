/**
 * The HTTP surface: Hono routes for the API, webhooks, approval links and the dashboard
 * (ui/). Routes check input and permissions, then call triggers, the store or a run's stub.
 */
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
import { limitRoutes } from "./limits";
import { metricsRoutes } from "./metrics";
import { buildOpenApiDocument } from "./openapi";
import { answer, errors, spec } from "./openapi-spec";
import { outboxRoutes } from "./outbox";
import { redactAnswers } from "./redact-answers";
import { runApprovalRoutes } from "./run-approvals";
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
  app.get(
    "/",
    spec({
      summary: "Where the API, hooks and dashboard are (a browser is sent to /ui/)",
      public: true,
      responses: { "200": answer("{name, api, hooks}"), "303": answer("to the dashboard") },
    }),
    (c) => {
      if (/\btext\/html\b/.test(c.req.header("accept") ?? "")) return c.redirect("/ui/", 303);
      return c.json({
        name: "Signalbox",
        api: `${new URL(c.req.url).origin}/api`,
        hooks: `${new URL(c.req.url).origin}/hooks/:workflowId`,
      });
    },
  );
  app.get(
    "/health",
    spec({ summary: "Liveness: {ok: true}", public: true, responses: { "200": answer("alive") } }),
    (c) => c.json({ ok: true }),
  );
  app.use("*", auditTrail);

  app.route("/api/schema", workflowSchemaRoutes);
  app.use("/api/*", requireApiToken);
  app.use("/api/*", redactAnswers);
  let openApi: Promise<unknown> | undefined;
  app.get(
    "/api/openapi.json",
    spec({ summary: "This API as OpenAPI 3.1", responses: { "200": answer("the document"), ...errors(401) } }),
    allow("api.read", { filtered: true }),
    async (c) => {
      // Built once per isolate; a build that failed is not kept, so the next request tries again.
      openApi ??= buildOpenApiDocument(app).catch((thrown) => {
        openApi = undefined;
        throw thrown;
      });
      return c.json(await openApi);
    },
  );
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
  app.route("/api/runs", runApprovalRoutes);
  app.route("/api/dead-letters", deadLetterRoutes);
  app.route("/api/metrics", metricsRoutes);
  app.route("/api/limits", limitRoutes);
  app.route("/api/workflows", workflowTestRoutes);
  app.route("/api/__bench", benchRoutes);
  app.route("/ui", dashboardRoutes);
  return app;
}
