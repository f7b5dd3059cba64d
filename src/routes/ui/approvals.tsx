import { Hono } from "hono";
import { humanLoopStub } from "../../run/human-loop-api";
import { openReviews } from "../../store/approval-inbox";
import { database } from "../../store/db";
import { ApprovalsPage, type InboxEntry } from "../../ui/pages/approvals/approvals-page";
import type { UiEnv } from "./types";

/** The approvals inbox: open links from D1, each review's request and state from its run. */
export const approvalInboxRoutes = new Hono<UiEnv>();

approvalInboxRoutes.get("/approvals", async (c) => {
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
  const entries: InboxEntry[] = reviews.flatMap((review, index) => {
    const info = infos[index];
    return info?.open ? [{ review, info }] : [];
  });
  return c.html(<ApprovalsPage entries={entries} csrf={c.get("csrf")} />);
});
