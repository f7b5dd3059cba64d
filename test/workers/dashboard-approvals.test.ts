import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openLinksQuery } from "../../src/store/approval-inbox";
import { database } from "../../src/store/db";
import { csrfOf, page, signIn } from "./dashboard-support";
import { register, settle, startManual } from "./helpers";
import { approvalWorkflow, decide, linkFor, openLink } from "./human-helpers";

async function auditRows(runId: string) {
  const rows = await env.DB.prepare(
    "SELECT outcome, decision, approver, details FROM approval_audit WHERE run_id = ? ORDER BY id",
  )
    .bind(runId)
    .all<{ outcome: string; decision: string | null; approver: string; details: string | null }>();
  return rows.results.map((row) => ({ ...row, details: row.details ? JSON.parse(row.details) : null }));
}

/** The inbox form's fields for the one review of `runId` at step ask. */
function reviewFields(runId: string, fields: Record<string, string>) {
  return { runId, nodeId: "ask", attempt: "1", round: "1", approver: "ann@example.com", ...fields };
}

async function waitingRun(
  id: string,
  human: Record<string, unknown> = {},
  input: unknown = { item: "a desk", amount: 450 },
) {
  await register(approvalWorkflow(id, human));
  const runId = await startManual(id, input);
  expect((await settle(runId)).status).toBe("needs_review");
  return runId;
}

describe("the approvals inbox", () => {
  it("says nothing waits when no review is open", async () => {
    const cookie = await signIn();
    const html = await (await page("/ui/approvals", { cookie })).text();
    expect(html).toContain("Nothing waits for a person");
  });

  it("reads open links through the status index, oldest first, without a sort", async () => {
    const { sql, params } = openLinksQuery(database(env.DB), Date.now(), 50).toSQL();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    expect(plan.results.map((row) => row.detail)).toEqual([
      "SEARCH approvals USING INDEX approvals_status_created (status=?)",
    ]);
  });

  it("lists open reviews oldest first with what they ask, and drops one once it is decided", async () => {
    await register(approvalWorkflow("dash-approve"));
    const first = await startManual("dash-approve", { item: "a desk", amount: 450 });
    const second = await startManual("dash-approve", { item: "a lamp", amount: 40 });
    expect((await settle(first)).status).toBe("needs_review");
    expect((await settle(second)).status).toBe("needs_review");
    const cookie = await signIn();
    const html = await (await page("/ui/approvals", { cookie })).text();
    expect([...html.matchAll(/data-review="([^/"]+)\/ask"/g)].map((match) => match[1])).toEqual([first, second]);
    expect(html).toContain("Approve a desk");
    expect(html).toContain("<dt>Amount</dt><dd>450</dd>");
    expect(html).toContain("waiting for ann@example.com");
    expect(html).toContain(`data-decide="${first}/ask/1/1"`);

    const decided = await decide(await linkFor(first, "ann@example.com"), { decision: "approve" });
    expect(decided.status).toBe(200);
    await settle(first);
    const after = await (await page("/ui/approvals", { cookie })).text();
    expect([...after.matchAll(/data-review="([^/"]+)\/ask"/g)].map((match) => match[1])).toEqual([second]);
  });
});

describe("deciding from the inbox", () => {
  it("approves as the signed-in person through the approver's link: the run goes on, the audit names both", async () => {
    const runId = await waitingRun("inbox-approve");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const response = await page("/ui/approvals/decide", {
      cookie,
      form: reviewFields(runId, { csrf, decision: "approve", comment: "fine by me" }),
    });
    expect(response.status).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location).toBe(`/ui/approvals?${new URLSearchParams({ decided: `${runId}/ask`, decision: "approve" })}`);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.outcome).toBe("bought");
    expect(report.context.approval).toMatchObject({ decision: "approve", comment: "fine by me" });

    const notice = await (await page(location, { cookie })).text();
    expect(notice).toContain(`Recorded: approve on step ask of run ${runId}. The run goes on from here.`);
    expect(notice).not.toContain(`data-review="${runId}/ask"`);
    expect(await auditRows(runId)).toEqual([
      {
        outcome: "accepted",
        decision: "approve",
        approver: "ann@example.com",
        details: {
          comment: "fine by me",
          edits: null,
          output: null,
          actor: { kind: "token", name: "API_TOKEN" },
        },
      },
    ]);
    // The email link was spent by the inbox decision: it is refused as used, like a second click.
    const link = await openLink(await linkFor(runId, "ann@example.com"));
    expect(link.status).toBe(410);
    expect(await link.text()).toContain("Link already used");
  });

  it("rejects with a comment and edits checked against the request's schema", async () => {
    const human = {
      edit: {
        schema: { type: "object", properties: { amount: { type: "number", maximum: 100 } } },
        values: { amount: "amount" },
      },
    };
    const runId = await waitingRun("inbox-edits", human, { item: "a lamp", amount: 40 });
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const html = await (await page("/ui/approvals", { cookie })).text();
    expect(html).toMatch(/<input type="number" id="r\d+-edit-amount" name="edit.amount" step="any" value="40"/);

    const tooMuch = await page("/ui/approvals/decide", {
      cookie,
      form: reviewFields(runId, { csrf, decision: "approve", "edit.amount": "500" }),
    });
    expect(tooMuch.status).toBe(422);
    const refused = await tooMuch.text();
    expect(refused).toMatch(/<p class="error" role="alert">edits: \/amount [^<]*100/);
    expect(refused).toContain('value="500"');
    expect((await settle(runId)).status).toBe("needs_review");

    const approved = await page("/ui/approvals/decide", {
      cookie,
      form: reviewFields(runId, { csrf, decision: "approve", "edit.amount": "90" }),
    });
    expect(approved.status).toBe(303);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.approval).toMatchObject({ decision: "approve", edits: { amount: 90 } });
    expect((await auditRows(runId)).map((row) => row.outcome)).toEqual(["invalid", "accepted"]);
  });

  it("a second decision, from another tab or after the email link, is refused with a 409 saying so", async () => {
    const runId = await waitingRun("inbox-twice");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const form = reviewFields(runId, { csrf, decision: "reject" });
    expect((await page("/ui/approvals/decide", { cookie, form })).status).toBe(303);
    const again = await page("/ui/approvals/decide", { cookie, form: { ...form, decision: "approve" } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("Not decided: ann@example.com&#39;s link was already used (reject).");
    expect((await settle(runId)).context.outcome).toBe("declined");

    const viaLink = await waitingRun("inbox-after-link");
    expect((await decide(await linkFor(viaLink, "ann@example.com"), { decision: "approve" })).status).toBe(200);
    const late = await page("/ui/approvals/decide", {
      cookie,
      form: reviewFields(viaLink, { csrf, decision: "reject" }),
    });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain("link was already used (approve)");
    expect((await settle(viaLink)).context.outcome).toBe("bought");
    expect((await auditRows(viaLink)).map((row) => [row.outcome, row.details?.actor ?? null])).toEqual([
      ["accepted", null],
      ["used", { kind: "token", name: "API_TOKEN" }],
    ]);
  });

  it.each<{ name: string; fields: Record<string, string>; status: number; says: string }>([
    {
      name: "a decision the request does not offer",
      fields: { decision: "skip" },
      status: 422,
      says: "choose one of: approve, reject",
    },
    { name: "no run id", fields: { runId: "" }, status: 400, says: "the form did not name a review" },
    {
      name: "a run id that is not one",
      fields: { runId: "../../etc" },
      status: 400,
      says: "the form did not name a review",
    },
    {
      name: "an attempt that is not a number",
      fields: { attempt: "x" },
      status: 400,
      says: "the form did not name a review",
    },
    {
      name: "an approver not asked",
      fields: { approver: "bob@example.com" },
      status: 404,
      says: "bob@example.com was not asked",
    },
    { name: "another round", fields: { round: "3" }, status: 404, says: "was not asked on this review" },
  ])("$name is refused ($status) and changes nothing", async ({ fields, status, says }) => {
    const runId = await waitingRun(`inbox-bad-${status}-${Object.keys(fields)[0]}`);
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const response = await page("/ui/approvals/decide", {
      cookie,
      form: { ...reviewFields(runId, { csrf, decision: "approve" }), ...fields },
    });
    expect(response.status).toBe(status);
    expect(await response.text()).toContain(says);
    expect((await settle(runId)).status).toBe("needs_review");
  });

  it("a form without the session's token or from another site is refused (403) and decides nothing", async () => {
    const runId = await waitingRun("inbox-forged");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const noToken = await page("/ui/approvals/decide", { cookie, form: reviewFields(runId, { decision: "approve" }) });
    expect(noToken.status).toBe(403);
    const elsewhere = await page("/ui/approvals/decide", {
      cookie,
      headers: { origin: "http://evil.test" },
      form: reviewFields(runId, { csrf, decision: "approve" }),
    });
    expect(elsewhere.status).toBe(403);
    const signedOut = await page("/ui/approvals/decide", { form: reviewFields(runId, { csrf, decision: "approve" }) });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toMatch(/^\/ui\/login/);
    expect((await settle(runId)).status).toBe("needs_review");
    expect(await auditRows(runId)).toEqual([]);
  });
});
