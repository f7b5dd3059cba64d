import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isRunId } from "../../lib/ids";
import { humanLoopStub } from "../../run/human-loop-api";
import type { ReviewQuery } from "../../run/reviews";
import { linkOfReview, openReviews } from "../../store/approval-inbox";
import { type ApprovalRow, recordAudit } from "../../store/approvals";
import { database } from "../../store/db";
import { ApprovalsPage, type InboxEntry } from "../../ui/pages/approvals/approvals-page";
import type { DecisionFailure } from "../../ui/pages/approvals/decision-form";
import { closedMessages, type DecisionSource, decideOnLink } from "../approval-decision";
import { parseDecision } from "../approval-input";
import { noteAudit } from "../audit-trail";
import { canOf } from "./page-permissions";
import { actorLabel, sessionActor } from "./session";
import type { UiEnv } from "./types";

/** The approvals inbox: open links from D1, each review's request and state from its run. */
export const approvalInboxRoutes = new Hono<UiEnv>();

type UiContext = Context<UiEnv>;

async function inboxEntries(c: UiContext): Promise<InboxEntry[]> {
  const reviews = await openReviews(database(c.env.DB), Date.now(), 50);
  const infos = await Promise.all(
    reviews.map((review) =>
      humanLoopStub(c.env, review.runId).reviewInfo({
        runId: review.runId,
        nodeId: review.nodeId,
        attempt: review.attempt,
        round: review.round,
        approver: review.pending[0] ?? "",
      }),
    ),
  );
  // The run has the last word: a review it has closed (decided, ended, moved on) is not shown.
  return reviews.flatMap((review, index) => {
    const info = infos[index];
    return info?.open ? [{ review, info }] : [];
  });
}

async function inbox(
  c: UiContext,
  status: ContentfulStatusCode,
  extra: { notice?: { ok: boolean; text: string }; failure?: DecisionFailure } = {},
) {
  return c.html(
    <ApprovalsPage
      entries={await inboxEntries(c)}
      csrf={c.get("csrf")}
      actor={actorLabel(sessionActor(c))}
      can={canOf(c)}
      notice={extra.notice}
      failure={extra.failure}
    />,
    status,
  );
}

const decisions = new Set(["approve", "reject", "retry", "skip", "fail"]);

approvalInboxRoutes.get("/approvals", (c) => {
  const decided = c.req.query("decided") ?? "";
  const decision = c.req.query("decision") ?? "";
  const [runId, ...step] = decided.split("/");
  const nodeId = step.join("/");
  // The notice repeats only what it can check: a run id, a short step id and a known decision.
  if (runId && isRunId(runId) && nodeId && nodeId.length <= 200 && decisions.has(decision)) {
    const rest =
      c.req.query("waiting") !== undefined
        ? "The request still waits for its other approvers."
        : "The run goes on from here.";
    return inbox(c, 200, {
      notice: { ok: true, text: `Recorded: ${decision} on step ${nodeId} of run ${runId}. ${rest}` },
    });
  }
  return inbox(c, 200);
});

function integer(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^\d{1,6}$/.test(value)) return undefined;
  return Number(value);
}

/** The review a decision names, from the form's hidden fields; anything malformed names none. */
function reviewQuery(raw: Record<string, unknown>): ReviewQuery | undefined {
  const { runId, nodeId, approver } = raw;
  const attempt = integer(raw.attempt);
  const round = integer(raw.round);
  if (typeof runId !== "string" || !isRunId(runId)) return undefined;
  if (typeof nodeId !== "string" || nodeId === "" || nodeId.length > 200) return undefined;
  if (typeof approver !== "string" || approver === "" || approver.length > 320) return undefined;
  if (attempt === undefined || round === undefined) return undefined;
  return { runId, nodeId, attempt, round, approver };
}

/**
 * A decision from the inbox spends the approver's link through `decideOnLink`, the function the
 * email link's page uses: one decision per link whichever is used first, the same audit rows,
 * with the signed-in actor added. Every refusal comes back to the inbox saying why.
 */
approvalInboxRoutes.post("/approvals/decide", async (c) => {
  const form = await c.req.formData();
  const raw = Object.fromEntries([...form.entries()].filter(([, value]) => typeof value === "string"));
  const db = database(c.env.DB);
  const actor = sessionActor(c);
  const source: DecisionSource = {
    ip: c.req.header("cf-connecting-ip") ?? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ?? null,
    userAgent: c.req.header("user-agent") ?? null,
    at: Date.now(),
    actor,
  };
  const refuse = async (status: ContentfulStatusCode, text: string, outcome: string, row?: ApprovalRow) => {
    if (row) {
      await recordAudit(db, {
        approvalId: row.id,
        runId: row.runId,
        nodeId: row.nodeId,
        approver: row.approver,
        decision: typeof raw.decision === "string" ? raw.decision.slice(0, 20) : null,
        outcome,
        ip: source.ip,
        userAgent: source.userAgent,
        at: source.at,
        details: { actor },
      }).catch(() => undefined);
    }
    return inbox(c, status, { notice: { ok: false, text } });
  };

  const query = reviewQuery(raw);
  if (!query) return refuse(400, "Not decided: the form did not name a review. Open the inbox again.", "invalid");
  const row = await linkOfReview(db, query);
  if (!row) return refuse(404, `Not decided: ${query.approver} was not asked on this review.`, "not_found");
  if (row.status !== "pending") {
    return refuse(
      409,
      `Not decided: ${row.approver}'s link was already used (${row.decision ?? "decided"}).`,
      "used",
      row,
    );
  }
  if (row.expiresAt <= source.at) return refuse(409, `Not decided: ${closedMessages.expired}`, "expired", row);
  const info = await humanLoopStub(c.env, row.runId).reviewInfo(query);
  if (!info) return refuse(404, "Not decided: the run no longer has this review.", "not_found", row);
  if (!info.open) {
    const reason = info.closed ?? "decided";
    return refuse(409, `Not decided: ${closedMessages[reason]}`, `closed:${reason}`, row);
  }

  const parsed = parseDecision(info, raw, true);
  if ("error" in parsed) {
    await recordAudit(db, {
      approvalId: row.id,
      runId: row.runId,
      nodeId: row.nodeId,
      approver: row.approver,
      outcome: "invalid",
      ip: source.ip,
      userAgent: source.userAgent,
      at: source.at,
      details: { message: parsed.error, actor },
    }).catch(() => undefined);
    return inbox(c, 422, {
      failure: {
        key: `${row.runId}/${row.nodeId}/${row.attempt}/${row.round}`,
        message: parsed.error,
        values: parsed.values,
      },
    });
  }
  noteAudit(c, { runId: row.runId });
  const result = await decideOnLink(c.env, db, row, parsed.input, source);
  if (!result.ok) {
    const text =
      result.reason === "used" ? `${row.approver}'s link was used a moment ago.` : closedMessages[result.reason];
    return refuse(409, `Not decided: ${text}`, result.reason === "used" ? "used" : `closed:${result.reason}`, row);
  }
  const back = new URLSearchParams({ decided: `${row.runId}/${row.nodeId}`, decision: parsed.input.decision });
  if (result.stepStatus === "needs_review") back.set("waiting", "");
  return c.redirect(`/ui/approvals?${back}`, 303);
});
