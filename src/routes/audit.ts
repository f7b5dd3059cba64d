import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { listAudit, verifyAudit } from "../store/audit-log";
import { database } from "../store/db";
import { allow } from "./auth";
import { listLimit, queryInteger } from "./request";

/**
 * The audit trail, for admins. It is read here and nowhere else; no route changes or removes
 * an entry (only retention does, from the oldest end: src/triggers/retention.ts).
 */
export const auditRoutes = new Hono<{ Bindings: Env }>();

/** A time as epoch milliseconds or an ISO 8601 date. */
function timeParam(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isSafeInteger(value)) {
    fail("request.invalid", `${name} must be epoch milliseconds or an ISO 8601 time`, {
      details: { parameter: name, value: raw },
    });
  }
  return value;
}

auditRoutes.get("/", allow("audit.read"), async (c) => {
  const { actor, action, workflow, run, from, to, cursor } = c.req.query();
  let before: number | undefined;
  if (cursor !== undefined) {
    before = /^\d+$/.test(cursor) ? Number(cursor) : Number.NaN;
    if (!Number.isSafeInteger(before)) fail("request.invalid", "cursor is not one this API returned");
  }
  const page = await listAudit(database(c.env.DB), {
    ...(actor ? { actor } : {}),
    ...(action ? { action } : {}),
    ...(workflow ? { workflowId: workflow } : {}),
    ...(run ? { runId: run } : {}),
    from: timeParam("from", from),
    to: timeParam("to", to),
    before,
    limit: listLimit(c),
  });
  return c.json({ entries: page.entries, cursor: page.next });
});

/**
 * Walks the chain (from its start, or `?from=<seq>`) for up to `?limit=` entries (default and
 * most 100,000, so one request stays within its CPU time); names the first entry that does not hold.
 */
auditRoutes.get("/verify", allow("audit.read"), async (c) => {
  const from = queryInteger(c, "from", { min: 1 });
  const limit = queryInteger(c, "limit", { min: 1, max: maxVerify }) ?? maxVerify;
  return c.json(await verifyAudit(database(c.env.DB), { ...(from !== undefined ? { from } : {}), limit }));
});

const maxVerify = 100_000;
