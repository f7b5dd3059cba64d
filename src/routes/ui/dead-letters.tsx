import { isNull } from "drizzle-orm";
import { Hono } from "hono";
import { isRunId } from "../../lib/ids";
import { database } from "../../store/db";
import { listDeadLetters } from "../../store/operations";
import { decodeCursor, encodeCursor } from "../../store/runs";
import { workflows } from "../../store/schema";
import { DeadLettersPage } from "../../ui/pages/dead-letters/dead-letters-page";
import { retryRun } from "../run-actions";
import { requestedPath, safeNextPath } from "./next-path";
import { canOf } from "./page-permissions";
import type { UiEnv } from "./types";

/** Dead letters and their requeue: the same listing and retry as /api/dead-letters. */
export const deadLetterPageRoutes = new Hono<UiEnv>();

deadLetterPageRoutes.get("/dead-letters", async (c) => {
  const problems: string[] = [];
  const workflowParam = c.req.query("workflow")?.trim();
  const workflow = workflowParam && workflowParam.length <= 200 ? workflowParam : undefined;
  if (workflowParam && !workflow) problems.push("workflow: too long; ignored");
  const cursorParam = c.req.query("cursor");
  const cursor = cursorParam && cursorParam.length <= 400 ? decodeCursor(cursorParam) : undefined;
  if (cursorParam && !cursor) problems.push("cursor: not a page of this list; ignored");
  const db = database(c.env.DB);
  const [page, workflowRows] = await Promise.all([
    listDeadLetters(c.env.DB, {
      limit: 50,
      ...(workflow ? { workflowId: workflow } : {}),
      ...(cursor ? { before: { at: cursor.createdAt, id: cursor.id } } : {}),
    }),
    db.select({ id: workflows.id }).from(workflows).where(isNull(workflows.deletedAt)).orderBy(workflows.id).limit(500),
  ]);
  const next = page.next
    ? `/ui/dead-letters?${new URLSearchParams({ ...(workflow ? { workflow } : {}), cursor: encodeCursor(page.next.at, page.next.id) })}`
    : undefined;
  const requeued = c.req.query("requeued");
  const refused = c.req.query("refused");
  const notice =
    requeued && isRunId(requeued)
      ? { ok: true, text: `Requeued ${requeued}: its failed steps run again.` }
      : refused
        ? { ok: false, text: `Not requeued: ${refused.slice(0, 300)}` }
        : undefined;
  return c.html(
    <DeadLettersPage
      letters={page.deadLetters}
      count={page.count}
      workflows={workflowRows.map((row) => row.id)}
      problems={problems}
      back={requestedPath(c.req.url)}
      csrf={c.get("csrf")}
      can={canOf(c)}
      {...(workflow ? { workflow } : {})}
      {...(next ? { nextHref: next } : {})}
      {...(notice ? { notice } : {})}
    />,
  );
});

deadLetterPageRoutes.post("/dead-letters/:runId/requeue", async (c) => {
  const runId = c.req.param("runId");
  const form = await c.req.formData();
  const back = new URL(safeNextPath(form.get("back")), "http://signalbox.invalid");
  if (!back.pathname.startsWith("/ui/dead-letters")) back.pathname = "/ui/dead-letters";
  back.searchParams.delete("requeued");
  back.searchParams.delete("refused");
  if (!isRunId(runId)) {
    back.searchParams.set("refused", "no such run");
  } else {
    const latest = form.get("latest") === "true";
    const result = await retryRun(c.env, runId, latest ? { version: "latest" } : {}, { operation: "requeue" });
    if (result.ok) back.searchParams.set("requeued", runId);
    else back.searchParams.set("refused", result.error.message);
  }
  return c.redirect(`${back.pathname}${back.search}`, 303);
});
