import { describe, expect, it } from "vitest";
import { page, signIn } from "./dashboard-support";
import { register, settle, startManual } from "./helpers";
import { approvalWorkflow, decide, linkFor } from "./human-helpers";

describe("the approvals inbox", () => {
  it("says nothing waits when no review is open", async () => {
    const cookie = await signIn();
    const html = await (await page("/ui/approvals", { cookie })).text();
    expect(html).toContain("Nothing waits for a person");
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

    const decided = await decide(await linkFor(first, "ann@example.com"), { decision: "approve" });
    expect(decided.status).toBe(200);
    await settle(first);
    const after = await (await page("/ui/approvals", { cookie })).text();
    expect([...after.matchAll(/data-review="([^/"]+)\/ask"/g)].map((match) => match[1])).toEqual([second]);
  });
});
