import { type Context, Hono } from "hono";
import { errorData } from "../../errors";
import { isRunId } from "../../lib/ids";
import { deleteRun } from "../../run/delete-run";
import type { ExecutionReport } from "../../run/report";
import { redact } from "../../security/seal";
import { database } from "../../store/db";
import { operationsOf } from "../../store/operations";
import { retentionOf, setHold } from "../../store/run-deletion";
import { runStub } from "../../triggers/start-run";
import { MessagePage } from "../../ui/pages/message-page";
import { ConfirmPage, type ReplayForm } from "../../ui/pages/run/confirm-page";
import { actionPermission, actionsFor, isRunAction, type RunAction } from "../../ui/pages/run/run-actions";
import { RunPage } from "../../ui/pages/run/run-page";
import { cancelRun, pauseRun, replayRun, resumeRun, retryRun } from "../run-actions";
import { requestedPath } from "./next-path";
import { canOf, notAllowedPage } from "./page-permissions";
import { parseReplayForm } from "./replay-input";
import { deliverEventForm, eventFormFor } from "./run-event";
import { parseRunQuery, runContext, runGraph } from "./run-view";
import type { UiEnv } from "./types";

/** One run's page, the confirmation of an action, and the action itself. */
export const runPageRoutes = new Hono<UiEnv>();

function notFound(c: Context<UiEnv>, runId: string) {
  return c.html(
    <MessagePage
      title="Run not found"
      message={`There is no run ${runId.slice(0, 200)}. It may have been deleted, or the id is mistyped.`}
      csrf={c.get("csrf")}
      section="runs"
    >
      <p>
        <a href="/ui/runs">Find it in the runs list</a>
      </p>
    </MessagePage>,
    404,
  );
}

async function loadReport(c: Context<UiEnv>, runId: string) {
  // An id that cannot be a run never reaches (and so never creates) a Durable Object.
  if (!isRunId(runId)) return null;
  // Sensitive values are sealed in the report; the page shows them redacted.
  return redact(await runStub(c.env, runId).report());
}

const notices: Record<string, string> = {
  cancel: "The run was cancelled.",
  pause: "The run is paused.",
  resume: "The run was resumed.",
  retry: "The run is running again.",
  replay: "This is the replay: a new run, started from the chosen step.",
  "event-consumed": "The event was delivered: the step waiting for it took it.",
  "event-buffered": "The event was delivered: the run keeps it until a step waits for it.",
  "event-duplicate": "An event with this id was delivered before; nothing changed.",
  hold: "The run is kept until the hold is lifted.",
  release: "The hold is lifted: retention deletes the run at its time.",
};

/** The steps a replay may start from, and the one to offer first: where the run failed, if it did. */
function replayForm(report: ExecutionReport): ReplayForm {
  const nodes = report.steps.filter((step) => step.status !== "skipped").map((step) => step.nodeId);
  const failed = report.steps.find((step) => step.status === "failed")?.nodeId;
  return { nodes, ...(failed ? { fromNode: failed } : {}) };
}

runPageRoutes.get("/runs/:runId", async (c) => {
  const runId = c.req.param("runId");
  const report = await loadReport(c, runId);
  if (!report) return notFound(c, runId);
  const query = parseRunQuery(c.req.query(), report);
  const [graph, context, operations, retention] = await Promise.all([
    runGraph(c.env, report),
    runContext(c.env, report, query),
    operationsOf(database(c.env.DB), runId),
    retentionOf(c.env.DB, runId),
  ]);
  const did = c.req.query("did");
  return c.html(
    <RunPage
      report={report}
      graph={graph}
      context={context}
      operations={operations}
      {...(retention ? { retention } : {})}
      problems={query.problems}
      now={Date.now()}
      self={requestedPath(c.req.url)}
      csrf={c.get("csrf")}
      can={canOf(c)}
      {...(query.step ? { step: query.step } : {})}
      {...(did && notices[did] ? { notice: notices[did] } : {})}
    />,
  );
});

runPageRoutes.get("/runs/:runId/confirm/:action", async (c) => {
  const runId = c.req.param("runId");
  const action = c.req.param("action");
  const report = await loadReport(c, runId);
  if (!report) return notFound(c, runId);
  if (!isRunAction(action)) return notFound(c, `${runId}/${action}`);
  if (!canOf(c)(actionPermission(action))) return notAllowedPage(c, actionPermission(action));
  const retention = await retentionOf(c.env.DB, runId);
  if (!actionsFor(report.status, retention ? retention.heldAt !== null : undefined).includes(action)) {
    return c.html(
      <MessagePage
        title="Not possible now"
        message={`A ${report.status} run cannot be sent "${action}".`}
        csrf={c.get("csrf")}
        section="runs"
      >
        <p>
          <a href={`/ui/runs/${runId}`}>Back to the run</a>
        </p>
      </MessagePage>,
      409,
    );
  }
  return c.html(
    <ConfirmPage
      runId={runId}
      action={action}
      status={report.status}
      csrf={c.get("csrf")}
      {...(action === "replay" ? { replay: replayForm(report) } : {})}
      {...(action === "event" ? { event: eventFormFor(report) } : {})}
    />,
  );
});

/** The same functions the API's routes call, so an action from here is audited the same way. */
async function perform(
  c: Context<UiEnv>,
  runId: string,
  action: Exclude<RunAction, "replay" | "event">,
  form: FormData,
) {
  switch (action) {
    case "cancel":
      return cancelRun(c.env, runId);
    case "pause": {
      const reason = form.get("reason");
      return pauseRun(
        c.env,
        runId,
        typeof reason === "string" && reason.trim() ? { reason: reason.slice(0, 500) } : {},
      );
    }
    case "resume":
      return resumeRun(c.env, runId);
    case "retry":
      return retryRun(c.env, runId, form.get("latest") === "true" ? { version: "latest" } : {});
    case "hold":
    case "release": {
      const found = await setHold(c.env.DB, runId, action === "hold" ? Date.now() : null);
      return found
        ? { ok: true as const, value: null }
        : { ok: false as const, error: errorData("run.not_found", `no run ${runId}`) };
    }
    case "delete": {
      const result = await deleteRun(c.env, runId);
      return "error" in result ? { ok: false as const, error: result.error } : { ok: true as const, value: result };
    }
  }
}

runPageRoutes.post("/runs/:runId/actions/:action", async (c) => {
  const runId = c.req.param("runId");
  const action = c.req.param("action");
  if (!isRunId(runId) || !isRunAction(action)) return notFound(c, runId);
  if (action === "replay") return replay(c, runId);
  if (action === "event") {
    const report = await loadReport(c, runId);
    return report ? deliverEventForm(c, report) : notFound(c, runId);
  }
  const result = await perform(c, runId, action, await c.req.formData());
  if (!result.ok) {
    if (result.error.code === "run.not_found") return notFound(c, runId);
    return c.html(
      <MessagePage title="Not done" message={result.error.message} csrf={c.get("csrf")} section="runs">
        <p>
          <a href={`/ui/runs/${runId}`}>Back to the run</a>
        </p>
      </MessagePage>,
      409,
    );
  }
  if (action === "delete") return c.redirect(`/ui/runs?deleted=${encodeURIComponent(runId)}`, 303);
  return c.redirect(`/ui/runs/${runId}?did=${action}`, 303);
});

/** A replay's form is checked before anything is sent; a bad one comes back with the reason. */
async function replay(c: Context<UiEnv>, runId: string) {
  const report = await loadReport(c, runId);
  if (!report) return notFound(c, runId);
  const form = await c.req.formData();
  const choices = replayForm(report);
  const input = parseReplayForm(form, choices.nodes);
  const again = (error: string, status: 409 | 422) => {
    const fromNode = form.get("fromNode");
    const context = form.get("context");
    return c.html(
      <ConfirmPage
        runId={runId}
        action="replay"
        status={report.status}
        csrf={c.get("csrf")}
        replay={{
          ...choices,
          ...(typeof fromNode === "string" ? { fromNode } : {}),
          ...(typeof context === "string" ? { context } : {}),
          error,
        }}
      />,
      status,
    );
  };
  if (!input.ok) return again(input.error, 422);
  const result = await replayRun(c.env, runId, {
    fromNode: input.fromNode,
    ...(input.context ? { context: input.context } : {}),
  });
  if (!result.ok) return again(result.error.message, 409);
  return c.redirect(`/ui/runs/${result.value.runId}?did=replay`, 303);
}
