import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { fail } from "../errors";
import { humanLoopStub } from "../run/human-loop-api";
import { openLinksOfStep } from "../store/approval-inbox";
import { database } from "../store/db";
import { closedMessages, decideOnLink } from "./approval-decision";
import { parseDecision } from "./approval-input";
import { allow } from "./auth";
import { answer, errors, parseBody, spec } from "./openapi-spec";
import { limitBody, readJson } from "./request";
import { runWorkflowId } from "./run-scope";
import { checkRunId } from "./runs";

/**
 * A person's decision through the API, with a key that may act on runs: as in the dashboard's
 * inbox, it spends the approver's link (one decision per link, whichever comes first) and the
 * audit trail names the key's holder as the one who decided on the approver's behalf.
 */
export const runApprovalRoutes = new Hono<{ Bindings: Env }>();

const decisionBody = z.object(
  {
    decision: z.enum(["approve", "reject", "retry", "skip", "fail"], {
      error: "decision must be approve, reject, retry, skip or fail",
    }),
    comment: z.string().max(2000).optional(),
    edits: z.record(z.string(), z.unknown()).optional().describe("changes to the request's editable fields"),
    output: z.record(z.string(), z.unknown()).optional().describe("a skip's output: keys the node writes"),
    approver: z
      .string()
      .optional()
      .describe("whose link to spend, when the step asks several people; absent: the only one asked"),
  },
  { error: "expected a JSON object {decision, comment?, edits?, output?, approver?}" },
);

const decided = z.object({
  runId: z.string(),
  nodeId: z.string(),
  decision: z.string(),
  approver: z.string(),
  decidedBy: z.object({ kind: z.enum(["token", "key"]), id: z.string(), name: z.string() }),
  runStatus: z.string(),
  stepStatus: z.string(),
});

runApprovalRoutes.post(
  "/:runId/approvals/:nodeId",
  spec({
    summary: "Decide a step waiting for a person, on an approver's behalf: spends that approver's link",
    body: decisionBody,
    responses: { "200": answer("recorded", decided), ...errors(400, 401, 404, 409, 410, 413, 422) },
  }),
  allow("runs.act", { run: "runId" }),
  limitBody,
  async (c) => {
    const runId = checkRunId(c.req.param("runId"));
    const nodeId = c.req.param("nodeId");
    const raw = await readJson(c);
    const body = parseBody(decisionBody, raw);
    const db = database(c.env.DB);
    const now = Date.now();
    const links = await openLinksOfStep(db, runId, nodeId, now);
    if (links.length === 0) {
      if ((await runWorkflowId(c.env, runId)) === undefined) fail("run.not_found", `no run ${runId}`);
      fail("approval.not_found", `step ${nodeId} of run ${runId} waits for no one`);
    }
    const asked = [...new Set(links.map((link) => link.approver))];
    const wanted = body.approver?.toLowerCase();
    const row =
      wanted === undefined
        ? asked.length === 1
          ? links[0]
          : undefined
        : links.find((link) => link.approver.toLowerCase() === wanted);
    if (!row) {
      const who = wanted === undefined ? "several people" : `not ${body.approver}`;
      fail("request.invalid", `step ${nodeId} asks ${who}: name one in approver (${asked.join(", ")})`, {
        details: { approvers: asked },
      });
    }
    const query = { runId, nodeId, attempt: row.attempt, round: row.round, approver: row.approver };
    const info = await humanLoopStub(c.env, runId).reviewInfo(query);
    if (!info) fail("approval.not_found", `run ${runId} no longer has this review`);
    if (!info.open) {
      const reason = info.closed ?? "decided";
      fail(reason === "expired" ? "approval.expired" : "approval.closed", closedMessages[reason]);
    }
    const parsed = parseDecision(info, raw as Record<string, unknown>, false);
    if ("error" in parsed) fail("approval.invalid", parsed.error);
    const principal = c.get("principal");
    const decidedBy = { kind: principal.kind, id: principal.id, name: principal.name };
    const result = await decideOnLink(c.env, db, row, parsed.input, {
      ip: c.req.header("cf-connecting-ip") ?? null,
      userAgent: c.req.header("user-agent") ?? null,
      at: now,
      actor: decidedBy,
    });
    if (!result.ok) {
      if (result.reason === "used") fail("approval.used", `${row.approver}'s link was used a moment ago`);
      fail(result.reason === "expired" ? "approval.expired" : "approval.closed", closedMessages[result.reason]);
    }
    return c.json({
      runId,
      nodeId,
      decision: parsed.input.decision,
      approver: row.approver,
      decidedBy,
      runStatus: result.runStatus,
      stepStatus: result.stepStatus,
    });
  },
);
