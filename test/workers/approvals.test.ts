import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { humanLoopStub } from "../../src/run/human-loop-api";
import { runStub } from "../../src/triggers/start-run";
import { api, register, settle, startManual } from "./helpers";
import { approvalWorkflow, csrfFrom, decide, linkFor, openLink, origin, outbox } from "./human-helpers";
import { expectError, fireAlarm } from "./support";

async function startApproval(id: string, human: Record<string, unknown> = {}, input: unknown = {}) {
  await register(approvalWorkflow(id, human));
  const runId = await startManual(id, { item: "a chair", amount: 40, ...(input as object) });
  const report = await settle(runId);
  expect(report.status).toBe("needs_review");
  return runId;
}

async function approvalRow(runId: string) {
  return env.DB.prepare("SELECT status, used_at, decision, token_hash FROM approvals WHERE run_id = ?")
    .bind(runId)
    .all<{ status: string; used_at: number | null; decision: string | null; token_hash: string }>();
}

describe("the human node asks by email and waits", () => {
  it("puts the step and the run in needs_review and mails a link", async () => {
    const runId = await startApproval("hil-mail");
    const report = await settle(runId);
    const ask = report.steps.find((step) => step.nodeId === "ask");
    expect(ask).toMatchObject({ status: "needs_review", review: { approvers: ["ann@example.com"], round: 1 } });
    const messages = await outbox(runId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      to: "ann@example.com",
      subject: "Approve a chair",
      purpose: "request",
      adapter: "outbox",
      status: "sent",
    });
    expect(messages[0]?.links[0]).toMatch(/^http:\/\/signalbox\.test\/approvals\/[A-Za-z0-9_-]{43}$/);
    expect(messages[0]?.text).toContain("Item: a chair");
    expect(messages[0]?.html).toContain("<th");
    // Only the token's hash is stored.
    const rows = (await approvalRow(runId)).results;
    expect(rows).toHaveLength(1);
    const token = messages[0]?.links[0]?.split("/").at(-1) ?? "";
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.token_hash).not.toContain(token);
  });

  it("GET renders the request and changes nothing, however often it is fetched", async () => {
    const runId = await startApproval("hil-get");
    const link = await linkFor(runId, "ann@example.com");
    const before = await settle(runId);
    for (let index = 0; index < 3; index++) {
      const page = await openLink(link);
      expect(page.status).toBe(200);
      expect(page.headers.get("cache-control")).toBe("no-store");
      expect(page.headers.get("referrer-policy")).toBe("no-referrer");
      const html = await page.text();
      expect(html).toContain("Approve a chair");
      expect(html).toContain("a chair");
      expect(html).toMatch(/<button[^>]*value="approve"/);
      expect(html).toMatch(/<button[^>]*value="reject"/);
    }
    const after = await settle(runId);
    expect(after.status).toBe("needs_review");
    expect(after.updatedAt).toBe(before.updatedAt);
    expect((await approvalRow(runId)).results[0]).toMatchObject({ status: "pending", used_at: null });
    const audit = await env.DB.prepare("SELECT COUNT(*) AS count FROM approval_audit WHERE run_id = ?")
      .bind(runId)
      .first<{ count: number }>();
    expect(audit?.count).toBe(0);
  });

  it("approving through the form finishes the run on the approve branch; the link works once", async () => {
    const runId = await startApproval("hil-approve");
    const link = await linkFor(runId, "ann@example.com");
    const csrf = csrfFrom(await (await openLink(link)).text());
    const response = await decide(link, { decision: "approve", comment: "fine by me" }, { csrf });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Decision recorded");
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.outcome).toBe("bought");
    expect(report.steps.find((step) => step.nodeId === "no")?.status).toBe("skipped");
    expect(report.context.approval).toMatchObject({
      decision: "approve",
      by: "ann@example.com",
      comment: "fine by me",
      expired: false,
      approvals: [{ approver: "ann@example.com", decision: "approve", comment: "fine by me" }],
    });

    // Replay: the same form again, a fresh load of the page, and a JSON post.
    const replay = await decide(link, { decision: "reject" }, { csrf });
    expect(replay.status).toBe(410);
    expect(await replay.text()).toContain("already used");
    const page = await openLink(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("already used");
    const again = await SELF.fetch(`${origin}${new URL(link).pathname}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ decision: "reject" }),
    });
    await expectError(again, 410, "approval.used");
    expect((await settle(runId)).context.outcome).toBe("bought");

    const audit = await env.DB.prepare(
      "SELECT outcome, decision, approver, user_agent FROM approval_audit WHERE run_id = ? ORDER BY id",
    )
      .bind(runId)
      .all();
    expect(audit.results.map((row) => row.outcome)).toEqual(["accepted", "used", "used"]);
    expect(audit.results[0]).toMatchObject({ decision: "approve", approver: "ann@example.com" });
  });

  it("a JSON decision works too, and rejecting takes the other branch", async () => {
    const runId = await startApproval("hil-json");
    const link = await linkFor(runId, "ann@example.com");
    const response = await SELF.fetch(`${origin}${new URL(link).pathname}`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "approver-cli/1.0" },
      body: JSON.stringify({ decision: "reject", comment: "too expensive" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ runId, nodeId: "ask", decision: "reject" });
    const report = await settle(runId);
    expect(report.context).toMatchObject({
      outcome: "declined",
      approval: { decision: "reject", comment: "too expensive" },
    });
    const audit = await env.DB.prepare("SELECT user_agent FROM approval_audit WHERE run_id = ?").bind(runId).first();
    expect(audit).toEqual({ user_agent: "approver-cli/1.0" });
  });
});

describe("forms that did not come from the page", () => {
  it.each([
    { name: "no form token", fields: {}, options: { csrf: null } },
    { name: "a wrong form token", fields: {}, options: { csrf: "0".repeat(64) } },
    { name: "another origin", fields: {}, options: { origin: "http://evil.test" } },
    { name: "no origin", fields: {}, options: { origin: null } },
  ])("are refused with $name and leave the link usable", async ({ name, options }) => {
    const runId = await startApproval(`hil-csrf-${name.replaceAll(" ", "-")}`);
    const link = await linkFor(runId, "ann@example.com");
    const response = await decide(link, { decision: "approve" }, options);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("did not come from this approval page");
    expect((await settle(runId)).status).toBe("needs_review");
    expect((await approvalRow(runId)).results[0]?.status).toBe("pending");
    expect((await decide(link, { decision: "approve" })).status).toBe(200);
  });
});

describe("links that cannot decide", () => {
  it("a forged or malformed token is not found and moves nothing", async () => {
    const runId = await startApproval("hil-forged");
    const forged = `http://signalbox.test/approvals/${"A".repeat(43)}`;
    expect((await openLink(forged)).status).toBe(404);
    expect((await openLink("http://signalbox.test/approvals/short")).status).toBe(404);
    const post = await SELF.fetch(forged, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    await expectError(post, 404, "approval.not_found");
    const form = await decide(forged, { decision: "approve" }, { csrf: "0".repeat(64) });
    expect(form.status).toBe(404);
    expect((await settle(runId)).status).toBe("needs_review");
  });

  it("a cancelled run's link shows that the run ended, and claims nothing", async () => {
    const runId = await startApproval("hil-cancel");
    const link = await linkFor(runId, "ann@example.com");
    const page = await openLink(link);
    const csrf = csrfFrom(await page.text());
    expect((await api(`/api/runs/${runId}/cancel`, { method: "POST" })).status).toBe(200);
    const after = await openLink(link);
    expect(after.status).toBe(409);
    expect(await after.text()).toContain("has ended");
    const post = await decide(link, { decision: "approve" }, { csrf });
    expect(post.status).toBe(409);
    expect((await settle(runId)).status).toBe("cancelled");
    expect((await approvalRow(runId)).results[0]?.status).toBe("pending");
  });

  it("a link is bound to its run: another run's object refuses its decision", async () => {
    const first = await startApproval("hil-wrong-run-a");
    const second = await startApproval("hil-wrong-run-b");
    const query = { runId: first, nodeId: "ask", attempt: 1, round: 1, approver: "ann@example.com" };
    expect(await humanLoopStub(env, second).reviewInfo(query)).toBeNull();
    expect(await humanLoopStub(env, second).decide({ ...query, decision: "approve" })).toEqual({
      ok: false,
      reason: "superseded",
    });
    expect((await settle(second)).status).toBe("needs_review");
    // Deciding the first run leaves the second waiting.
    expect((await decide(await linkFor(first, "ann@example.com"), { decision: "approve" })).status).toBe(200);
    expect((await settle(first)).status).toBe("success");
    expect((await settle(second)).status).toBe("needs_review");
  });

  it("a decision the request does not offer is refused without using the link", async () => {
    const runId = await startApproval("hil-offer", { decisions: ["approve"] });
    const link = await linkFor(runId, "ann@example.com");
    const response = await decide(link, { decision: "reject" });
    expect(response.status).toBe(422);
    expect(await response.text()).toContain("choose one of: approve");
    expect((await approvalRow(runId)).results[0]?.status).toBe("pending");
  });
});

describe("expiry and reminders run on the run's alarm", () => {
  it("reminds with a fresh link, then expires with onExpire reject; the old link is expired", async () => {
    const runId = await startApproval("hil-expire");
    const first = await linkFor(runId, "ann@example.com");
    expect(await fireAlarm(runId)).toBe(true);
    let report = await settle(runId);
    expect(report.status).toBe("needs_review");
    const messages = await outbox(runId);
    expect(messages.map((message) => message.purpose)).toEqual(["request", "reminder"]);
    expect(messages[1]?.subject).toBe("Reminder: Approve a chair");
    expect(messages[1]?.links[0]).not.toBe(first);

    expect(await fireAlarm(runId)).toBe(true);
    report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({
      outcome: "declined",
      approval: { decision: "reject", by: null, expired: true },
    });
    for (const link of [first, messages[1]?.links[0] ?? ""]) {
      const page = await openLink(link);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain("expired");
    }
  });

  it("onExpire fail fails the run with review.expired", async () => {
    const runId = await startApproval("hil-expire-fail", { onExpire: "fail", remind: [] });
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "review.expired", nodeId: "ask" });
  });

  it("onExpire escalate asks the next approvers; their approval finishes the run", async () => {
    const runId = await startApproval("hil-escalate", {
      remind: [],
      onExpire: { escalate: ["boss@example.com"], expiresIn: "1d", fallback: "reject" },
    });
    const annLink = await linkFor(runId, "ann@example.com");
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("needs_review");
    expect(report.steps.find((step) => step.nodeId === "ask")?.review).toMatchObject({
      round: 2,
      approvers: ["boss@example.com"],
    });
    expect((await openLink(annLink)).status).toBe(410);
    const bossLink = await linkFor(runId, "boss@example.com", "escalation");
    expect((await outbox(runId)).at(-1)?.subject).toBe("Escalated to you: Approve a chair");
    expect((await decide(bossLink, { decision: "approve" })).status).toBe(200);
    const done = await settle(runId);
    expect(done.context).toMatchObject({ outcome: "bought", approval: { by: "boss@example.com", round: 2 } });
  });
});

describe("approvals needing everyone, and edits", () => {
  it("require all: one approval keeps it waiting, the second finishes it", async () => {
    const runId = await startApproval("hil-all", { to: ["ann@example.com", "bob@example.com"], require: "all" });
    expect((await outbox(runId)).map((message) => message.to).sort()).toEqual(["ann@example.com", "bob@example.com"]);
    const first = await decide(await linkFor(runId, "ann@example.com"), { decision: "approve" });
    expect(await first.text()).toContain("still waiting for the other approvers");
    expect((await settle(runId)).status).toBe("needs_review");
    const bobPage = await (await openLink(await linkFor(runId, "bob@example.com"))).text();
    expect(bobPage).toContain("ann@example.com (approve)");
    expect((await decide(await linkFor(runId, "bob@example.com"), { decision: "approve" })).status).toBe(200);
    const report = await settle(runId);
    expect(report.context.outcome).toBe("bought");
    expect((report.context.approval as { approvals: unknown[] }).approvals).toHaveLength(2);
  });

  it("approvers from a JSONata expression", async () => {
    const runId = await startApproval("hil-expr", { to: "input.approvers" }, { approvers: ["cat@example.com"] });
    expect((await outbox(runId)).map((message) => message.to)).toEqual(["cat@example.com"]);
  });

  it("edits are checked against the schema and written with the decision", async () => {
    const runId = await startApproval("hil-edit", {
      edit: {
        schema: {
          type: "object",
          properties: { amount: { type: "number", maximum: 100 }, note: { type: "string" } },
        },
        values: { amount: "amount" },
      },
    });
    const link = await linkFor(runId, "ann@example.com");
    const page = await (await openLink(link)).text();
    expect(page).toMatch(/name="edit\.amount"[^>]*value="40"/);
    const bad = await decide(link, { decision: "approve", "edit.amount": "500" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("edits:");
    expect((await approvalRow(runId)).results[0]?.status).toBe("pending");
    const good = await decide(link, { decision: "approve", "edit.amount": "35", "edit.note": "used one" });
    expect(good.status).toBe(200);
    const report = await settle(runId);
    expect(report.context.approval).toMatchObject({ edits: { amount: 35, note: "used one" } });
  });
});

describe("the run report", () => {
  it("shows who was asked and who decided", async () => {
    const runId = await startApproval("hil-report");
    await decide(await linkFor(runId, "ann@example.com"), { decision: "approve" });
    const report = await runStub(env, runId).report();
    expect(report?.steps.find((step) => step.nodeId === "ask")?.review).toMatchObject({
      kind: "approval",
      outcome: "approve",
      decisions: [{ approver: "ann@example.com", decision: "approve" }],
    });
  });
});
