import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { fail } from "../errors";
import { listAudit, verifyAudit } from "../store/audit-log";
import { database } from "../store/db";
import { allow } from "./auth";
import { answer, errors, limitParam, queryParam, spec } from "./openapi-spec";
import { listLimit, queryInteger } from "./request";

/**
 * The audit trail, for admins. It is read here and nowhere else; no route changes or removes
 * an entry (only retention does, from the oldest end: src/triggers/retention.ts).
 */
export const auditRoutes = new Hono<{ Bindings: Env }>();

/** `{[name]: value}` when the value is given, else nothing (the filter's fields are optional). */
function defined<K extends string>(name: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, number>);
}

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

const nullableString = z.string().nullable();

/** One entry as the API answers it. */
const auditEntry = z.object({
  seq: z.number().int(),
  at: z.number().int(),
  actor: z.object({ kind: z.string(), id: nullableString, name: nullableString }),
  action: z.string().describe("`<METHOD> <route>`, such as `POST /api/runs/:runId/cancel`"),
  workflowId: nullableString,
  runId: nullableString,
  status: z.number().int(),
  code: nullableString,
  ip: nullableString,
  userAgent: nullableString,
  prevHash: z.string(),
  hash: z.string(),
});

const verifyAnswer = z.union([
  z.object({
    ok: z.literal(true),
    checked: z.number().int(),
    first: z.number().int().nullable(),
    last: z.number().int().nullable(),
    next: z.number().int().nullable().describe("where to go on with ?from= when the walk stopped at its limit"),
  }),
  z.object({
    ok: z.literal(false),
    checked: z.number().int(),
    broken: z.object({
      seq: z.number().int(),
      reason: z.enum(["hash_mismatch", "prev_hash_mismatch", "gap"]),
      expected: z.string(),
      found: z.string(),
    }),
  }),
]);

auditRoutes.get(
  "/",
  spec({
    summary: "Audit entries, newest first, paged by cursor (admin)",
    parameters: [
      queryParam("actor", undefined, "a key id, key or token name, Access email or approver"),
      queryParam("action", undefined, "`<METHOD> <route>`"),
      queryParam("workflow", undefined, "workflow id"),
      queryParam("run", undefined, "run id"),
      queryParam("from", undefined, "epoch ms or ISO 8601, inclusive"),
      queryParam("to", undefined, "epoch ms or ISO 8601, exclusive"),
      limitParam,
      queryParam("cursor", undefined, "the previous page's cursor"),
    ],
    responses: {
      "200": answer("a page of entries", z.object({ entries: z.array(auditEntry), cursor: nullableString })),
      ...errors(400, 401),
    },
  }),
  allow("audit.read"),
  async (c) => {
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
      ...defined("from", timeParam("from", from)),
      ...defined("to", timeParam("to", to)),
      ...defined("before", before),
      limit: listLimit(c),
    });
    return c.json({ entries: page.entries, cursor: page.next });
  },
);

/**
 * Walks the chain (from its start, or `?from=<seq>`) for up to `?limit=` entries (default and
 * most 100,000, so one request stays within its CPU time); names the first entry that does not hold.
 */
const maxVerify = 100_000;

auditRoutes.get(
  "/verify",
  spec({
    summary: "Checks the hash chain and names the first entry that does not hold (admin)",
    parameters: [
      queryParam("from", { type: "integer", minimum: 1 }, "the seq to start at; default the oldest"),
      queryParam("limit", { type: "integer", minimum: 1, maximum: maxVerify, default: maxVerify }, "entries to check"),
    ],
    responses: { "200": answer("what the walk found", verifyAnswer), ...errors(400, 401) },
  }),
  allow("audit.read"),
  async (c) => {
    const from = queryInteger(c, "from", { min: 1 });
    const limit = queryInteger(c, "limit", { min: 1, max: maxVerify }) ?? maxVerify;
    return c.json(await verifyAudit(database(c.env.DB), { ...(from !== undefined ? { from } : {}), limit }));
  },
);
