import type { Context } from "hono";
import { MessagePage } from "../../ui/pages/message-page";
import { noteAudit } from "../audit-trail";
import type { FormCheck } from "./guard";
import type { UiEnv } from "./types";

const reasons: Record<Exclude<FormCheck, { ok: true }>["reason"], string> = {
  origin: "This form was sent from another site, so it was refused. Nothing was changed.",
  token: "This form's security token is missing or out of date. Nothing was changed: reload the page and try again.",
  body: "This request was not a form from the dashboard. Nothing was changed.",
};

/** A refused form: 403, and what to do about it. */
export function refusedPage(c: Context<UiEnv>, reason: keyof typeof reasons, signedIn: boolean) {
  noteAudit(c, { code: `form.${reason}_refused` });
  return c.html(
    <MessagePage title="Form refused" message={reasons[reason]} csrf={signedIn ? c.get("csrf") : undefined} />,
    403,
  );
}
