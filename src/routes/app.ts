import { Hono } from "hono";
import type { Env } from "../env";
import { errorData } from "../errors";
import { requireApiToken } from "./auth";
import { hookRoutes } from "./hooks";
import { errorResponse, handleError } from "./http-errors";
import { openApiDocument } from "./openapi";
import { runRoutes } from "./runs";
import { workflowRoutes } from "./workflows";

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();
  app.onError(handleError);
  app.notFound((c) => errorResponse(c, errorData("route.not_found", `no route ${c.req.method} ${c.req.path}`)));

  app.get("/", (c) =>
    c.json({
      name: "Signalbox",
      api: `${new URL(c.req.url).origin}/api`,
      hooks: `${new URL(c.req.url).origin}/hooks/:workflowId`,
    }),
  );
  app.get("/health", (c) => c.json({ ok: true }));

  app.use("/api/*", requireApiToken);
  app.get("/api/openapi.json", (c) => c.json(openApiDocument));
  app.route("/api/workflows", workflowRoutes);
  app.route("/api/runs", runRoutes);
  app.route("/hooks", hookRoutes);
  return app;
}
