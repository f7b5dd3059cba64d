import type { Context } from "hono";
import { isErrorData } from "../../errors";
import type { Json } from "../../lib/json";
import { eventName } from "../../nodes/wait";
import { humanLoopStub } from "../../run/human-loop-api";
import type { ExecutionReport } from "../../run/report";
import { ConfirmPage, type EventForm } from "../../ui/pages/run/confirm-page";
import type { UiEnv } from "./types";

/** The event a waiting step expects, to fill the form's name with. */
export function eventFormFor(report: ExecutionReport): EventForm {
  const waiting = report.steps.find((step) => step.awaiting)?.awaiting?.event;
  return waiting ? { name: waiting } : {};
}

/**
 * Delivers an event to a run as `POST /api/runs/:runId/events/:name` does, after checking the
 * form: a name events may have, a payload that is JSON. A bad form comes back with the reason.
 */
export async function deliverEventForm(c: Context<UiEnv>, report: ExecutionReport) {
  const form = await c.req.formData();
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : "";
  };
  const values: EventForm = { name: text("name").trim(), payload: text("payload"), id: text("id").trim() };
  const again = (error: string, status: 409 | 422) =>
    c.html(
      <ConfirmPage
        runId={report.runId}
        action="event"
        status={report.status}
        csrf={c.get("csrf")}
        event={{ ...values, error }}
      />,
      status,
    );
  if (!eventName.safeParse(values.name).success) {
    return again("An event name is letters, digits, '.', '_', ':' or '-', at most 100 characters.", 422);
  }
  let payload: Json = null;
  if ((values.payload ?? "").trim() !== "") {
    try {
      payload = JSON.parse(values.payload ?? "") as Json;
    } catch (thrown) {
      return again(`The payload is not valid JSON: ${(thrown as Error).message}`, 422);
    }
  }
  const result = await humanLoopStub(c.env, report.runId).deliverEvent({
    name: values.name ?? "",
    payload,
    receivedAt: Date.now(),
    ...(values.id ? { id: values.id } : {}),
  });
  if (!result) return again("The run is gone.", 409);
  if ("error" in result && isErrorData(result.error)) return again(result.error.message, 409);
  const status = "status" in result ? result.status : "consumed";
  return c.redirect(`/ui/runs/${report.runId}?did=event-${status}`, 303);
}
