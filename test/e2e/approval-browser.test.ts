import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumOptions } from "../../scripts/lib/chromium.mjs";
import { approvalLink, outboxOf, waitForStatus } from "./approvals";
import { getReport, type Harness, registerWorkflow, startHarness, step, uniqueId, waitForRunEnd } from "./harness";

let harness: Harness;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  const options = chromiumOptions();
  harness = await startHarness();
  profile = await mkdtemp(join(tmpdir(), "signalbox-chromium-"));
  browser = await chromium.launchPersistentContext(profile, options);
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

function purchase(id: string) {
  return {
    id,
    name: "Purchase approval",
    triggers: [{ type: "manual" }],
    nodes: [
      {
        id: "ask",
        type: "human",
        config: {
          to: ["ann@example.com"],
          subject: "Approve {{ input.item }} for {{ input.amount }} EUR",
          body: "{{ input.requester }} asks to buy {{ input.item }}.",
          summary: { Item: "input.item", Amount: "input.amount", Requester: "input.requester" },
          expiresIn: "2d",
        },
      },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "approval.decision = 'approve'", to: "buy" }], default: "decline" },
      },
      { id: "buy", type: "transform", config: { set: { outcome: "'bought ' & input.item" } } },
      { id: "decline", type: "transform", config: { set: { outcome: "'declined'" } } },
    ],
    edges: [
      { from: "ask", to: "route" },
      { from: "route", to: "buy" },
      { from: "route", to: "decline" },
    ],
  };
}

describe("an approval in a real browser", () => {
  it("opens the emailed link, changes nothing by loading it, approves, and the run finishes on the approve branch", async () => {
    const workflowId = uniqueId("browser-approval");
    await registerWorkflow(harness, purchase(workflowId));
    const started = await harness.api(`/api/workflows/${workflowId}/runs`, {
      method: "POST",
      body: JSON.stringify({ input: { item: "a standing desk", amount: 450, requester: "Grace" } }),
    });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    await waitForStatus(harness, runId, "needs_review");
    const link = await approvalLink(harness, runId, "ann@example.com");
    expect(link.startsWith(`${harness.baseUrl}/approvals/`)).toBe(true);
    const before = await getReport(harness, runId);

    const page = await browser.newPage();
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Approve a standing desk for 450 EUR");
    expect(await page.locator("table").textContent()).toContain("Grace");

    // Loading the page alone (as a mail scanner would) changed nothing.
    const after = await getReport(harness, runId);
    expect(after.status).toBe("needs_review");
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(step(after, "ask").review?.decisions).toEqual([]);
    expect((await fetch(link)).status).toBe(200);

    await page.getByLabel("Comment (optional)").fill("Go ahead");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForLoadState();
    expect(await page.locator("h1").textContent()).toBe("Decision recorded");
    expect(await page.getByRole("status").textContent()).toContain("(approve)");

    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(step(report, "buy").status).toBe("success");
    expect(step(report, "decline").status).toBe("skipped");
    expect(report.context.outcome).toBe("bought a standing desk");
    expect(report.context.approval).toMatchObject({ decision: "approve", by: "ann@example.com", comment: "Go ahead" });

    // The link worked once: opening it again says so.
    const reopened = await page.goto(link);
    expect(reopened?.status()).toBe(410);
    expect(await page.locator("h1").textContent()).toBe("Link already used");
    expect((await outboxOf(harness, runId)).map((message) => message.to)).toEqual(["ann@example.com"]);
    await page.close();
  });
});
