import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorStatus, toErrorData } from "../../errors";
import { MessagePage } from "../../ui/pages/message-page";
import { limitBody } from "../request";
import { approvalInboxRoutes } from "./approvals";
import { assetRoutes } from "./assets";
import { bulkRoutes } from "./bulk";
import { deadLetterPageRoutes } from "./dead-letters";
import { checkForm, requireSession } from "./guard";
import { securityHeaders } from "./headers";
import { loginRoutes } from "./login";
import { metricsPageRoutes } from "./metrics";
import { requirePagePermission } from "./page-permissions";
import { refusedPage } from "./refused";
import { runPageRoutes } from "./run-page";
import { runListRoutes } from "./runs";
import type { UiEnv } from "./types";
import { workflowPageRoutes } from "./workflows";

/**
 * The dashboard under /ui: server-rendered pages, readable without scripts. Everything but the
 * assets and sign-in needs a session; every POST needs this site's Origin and the session's
 * form token before any handler sees it.
 */
export const dashboardRoutes = new Hono<UiEnv>();

/** The form token when the error happened behind the session check: the page keeps its navigation. */
function signedIn(c: Context<UiEnv>): string | undefined {
  return c.get("csrf");
}

dashboardRoutes.onError((thrown, c) => {
  if (thrown instanceof HTTPException && thrown.status < 500) {
    return c.html(<MessagePage title="Request refused" message={thrown.message} csrf={signedIn(c)} />, thrown.status);
  }
  const data = toErrorData(thrown);
  const status = errorStatus[data.code];
  if (status < 500) {
    return c.html(<MessagePage title="Request refused" message={data.message} csrf={signedIn(c)} />, 400);
  }
  console.log(
    JSON.stringify({ level: "error", message: "dashboard page failed", path: c.req.path, error: String(thrown) }),
  );
  return c.html(
    <MessagePage
      title="Something went wrong"
      message="This page could not be shown. The error is in the Worker's logs."
      csrf={signedIn(c)}
    />,
    500,
  );
});

dashboardRoutes.use("*", securityHeaders);
dashboardRoutes.route("/assets", assetRoutes);
dashboardRoutes.route("/", loginRoutes);
dashboardRoutes.use("*", requireSession);
dashboardRoutes.post("*", limitBody, async (c, next) => {
  const check = await checkForm(c, { token: true });
  if (!check.ok) return refusedPage(c, check.reason, true);
  return next();
});
dashboardRoutes.post("*", requirePagePermission);

dashboardRoutes.get("/", (c) => c.redirect("/ui/runs", 303));
dashboardRoutes.get("", (c) => c.redirect("/ui/runs", 303));
dashboardRoutes.route("/", runListRoutes);
dashboardRoutes.route("/", bulkRoutes);
dashboardRoutes.route("/", deadLetterPageRoutes);
dashboardRoutes.route("/", workflowPageRoutes);
dashboardRoutes.route("/", approvalInboxRoutes);
dashboardRoutes.route("/", metricsPageRoutes);
dashboardRoutes.route("/", runPageRoutes);

dashboardRoutes.all("*", (c) =>
  c.html(
    <MessagePage title="Page not found" message={`There is no dashboard page at ${c.req.path}.`} csrf={c.get("csrf")}>
      <p>
        <a href="/ui/runs">Go to the runs</a>
      </p>
    </MessagePage>,
    404,
  ),
);
