import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../scripts/lib/chromium.mjs";
import { seedDemo, waitForRun } from "../../scripts/lib/dashboard-demo.mjs";
import { probePort } from "../../scripts/lib/wrangler.mjs";
import { getReport, type Harness, startHarness, waitForRunEnd } from "./harness";

interface AxeApi {
  run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
}

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

let harness: Harness;
let browser: Browser;
let runs: Awaited<ReturnType<typeof seedDemo>>;
let elsewhere: Server;
let elsewhereOrigin: string;
const problems: string[] = [];

/** A page of another site: forms that post to the dashboard, sent as soon as they load. */
function otherSite(baseUrl: string, waitingRunId: string): Promise<Server> {
  const pages: Record<string, string> = {
    "/cancel": `<form method="post" action="${baseUrl}/ui/runs/${waitingRunId}/actions/cancel"><input name="csrf" value="guess"></form>`,
    "/login": `<form method="post" action="${baseUrl}/ui/login"><input name="token" value="guess"><input name="next" value="/ui/runs"></form>`,
  };
  const server = createServer((request, response) => {
    const form = pages[request.url ?? ""] ?? "";
    response.writeHead(200, { "content-type": "text/html" });
    response.end(`<!doctype html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** A browser tab that records console errors and failed scripts as test problems. */
async function watchedPage(context: BrowserContext): Promise<Page> {
  // Each test starts with none: one test's expected refusals are not another's problems.
  problems.length = 0;
  const page = await context.newPage();
  page.on("console", (message) => {
    // A refused form answers 422 on purpose (the test checks it), and Chromium logs every 4xx page as a failed load.
    const refusedForm = /status of 422/.test(message.text());
    if (message.type() === "error" && !refusedForm) problems.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
  return page;
}

async function signIn(page: Page, path = "/ui/runs"): Promise<void> {
  await page.goto(`${harness.baseUrl}${path}`);
  expect(new URL(page.url()).pathname).toBe("/ui/login");
  await page.getByLabel("API token").fill(harness.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === path);
}

beforeAll(async () => {
  harness = await startHarness();
  browser = await launchChromium();
  runs = await seedDemo(harness.baseUrl, harness.token, (await probePort(0)) ?? 9);
  elsewhere = await otherSite(harness.baseUrl, runs.reminderWaiting);
  elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
  await new Promise((resolve) => (elsewhere ? elsewhere.close(resolve) : resolve(undefined)));
});

describe("the dashboard in a real browser", () => {
  it("signs in, finds a run by filter, shows its graph and timeline as the API reports it, diffs its context, and signs out", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await watchedPage(context);
    await signIn(page);
    expect(await page.evaluate(() => typeof Reflect.get(window, "htmx"))).toBe("object");

    await page.getByLabel("Workflow", { exact: true }).selectOption("order-flow");
    await page.getByLabel("Status", { exact: true }).selectOption("failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/workflow=order-flow/);
    const rows = page.locator("#runs tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-run-id")).toBe(runs.orderFailed);

    await page.getByRole("link", { name: runs.orderFailed }).click();
    await page.waitForURL((url) => url.pathname === `/ui/runs/${runs.orderFailed}`);
    const report = await getReport(harness, runs.orderFailed);
    expect(report.status).toBe("failed");
    const nodes = await page
      .locator("svg [data-node-id]")
      .evaluateAll((elements) =>
        elements.map((element) => [element.getAttribute("data-node-id"), element.getAttribute("data-status")]),
      );
    const expected = report.steps.map((entry) => [entry.nodeId, entry.status]);
    expect(nodes.sort()).toEqual([...expected].sort());
    const stepRows = await page
      .locator("tr[data-step]")
      .evaluateAll((elements) =>
        elements.map((element) => [element.getAttribute("data-step"), element.getAttribute("data-status")]),
      );
    expect(stepRows).toEqual(expected);
    const charge = report.steps.find((entry) => entry.nodeId === "charge");
    expect(await page.locator('tr[data-step="charge"] rect.bar').count()).toBe(charge?.history.length);

    await page.locator('a:has(g[data-node-id="charge"])').click();
    await expect.poll(() => page.locator('[data-step-panel="charge"] h2').textContent()).toContain("charge");
    expect(await page.locator('[data-step-panel="charge"] tr[data-attempt]').count()).toBe(charge?.attempts);

    await page.getByLabel("From", { exact: true }).selectOption("0");
    await page.getByLabel("To", { exact: true }).selectOption(String(report.contextVersion));
    await page.getByRole("button", { name: "Compare" }).click();
    const diff = page.locator(`table[data-diff="0-${report.contextVersion}"]`);
    await expect.poll(() => diff.count()).toBe(1);
    expect(await diff.locator('tr[data-op="add"] code').allTextContents()).toEqual(["/approved", "/total"]);

    // Replay the quiet greeting from its first step with an edited input: a bad edit first.
    await page.goto(`${harness.baseUrl}/ui/runs/${runs.greetingQuiet}`);
    await page.getByRole("link", { name: "Replay from a step" }).click();
    await page.getByLabel("Start from step").selectOption("compose");
    await page.getByLabel(/Context edits/).fill('{"input": {"name": "Lin", "loud": true}');
    await page.getByRole("button", { name: "Replay from a step" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not valid JSON");
    await page.getByLabel(/Context edits/).fill('{"input": {"name": "Lin", "loud": true}}');
    await page.getByRole("button", { name: "Replay from a step" }).click();
    await page.waitForURL(/did=replay/);
    const replayId = new URL(page.url()).pathname.split("/").pop() ?? "";
    expect(replayId).not.toBe(runs.greetingQuiet);
    const replayed = await waitForRunEnd(harness, replayId);
    expect(replayed.replayOf).toEqual({ runId: runs.greetingQuiet, fromNode: "compose" });
    expect(replayed.context.message).toBe("HELLO, LIN!");
    await page.reload();
    expect(await page.locator('g[data-node-id="shout"]').getAttribute("data-status")).toBe("success");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/ui/login");
    await page.goto(`${harness.baseUrl}/ui/runs`);
    expect(new URL(page.url()).pathname).toBe("/ui/login");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("refuses forms posted from another site, and changes nothing", async () => {
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await signIn(page);
    // Another port of 127.0.0.1 is the same site, so the cookie goes along: the Origin check refuses it.
    const cancel = page.waitForResponse((response) => response.url().endsWith("/actions/cancel"));
    await page.goto(`${elsewhereOrigin}/cancel`);
    expect((await cancel).status()).toBe(403);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Form refused");
    expect(await page.locator("[role=status]").textContent()).toContain("sent from another site");
    expect((await getReport(harness, runs.reminderWaiting)).status).toBe("waiting");

    const refused = page.waitForResponse((response) => response.url() === `${harness.baseUrl}/ui/login`);
    await page.goto(`${elsewhereOrigin}/login`);
    expect((await refused).status()).toBe(403);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Form refused");
    await context.close();
  });

  it("requeues a dead letter, which runs its failed step again", async () => {
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await signIn(page, "/ui/dead-letters");
    const row = page.locator(`tr[data-run-id="${runs.orderFailed}"]`);
    await expect.poll(() => row.count()).toBe(1);
    const before = await getReport(harness, runs.orderFailed);
    await row.getByRole("button", { name: "Requeue" }).click();
    await page.waitForURL(/requeued=/);
    expect(await page.getByRole("status").textContent()).toContain(`Requeued ${runs.orderFailed}`);
    const charge = (report: Awaited<ReturnType<typeof getReport>>) =>
      report.steps.find((entry) => entry.nodeId === "charge")?.history.length ?? 0;
    // The charge endpoint is still down: the requeued run fails again, after three more attempts.
    const after = await waitForRunEnd(harness, runs.orderFailed);
    expect(after.status).toBe("failed");
    expect(charge(after)).toBe(charge(before) + 3);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("approves from the inbox as the signed-in person, and the run goes on", async () => {
    const started = await harness.api("/api/workflows/purchase/runs", {
      method: "POST",
      body: JSON.stringify({ input: { item: "a monitor arm", requester: "Lin" } }),
    });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    await waitForRun(
      harness.baseUrl,
      harness.token,
      runId,
      (report: { status: string }) => report.status === "needs_review",
    );

    const context = await browser.newContext();
    const page = await watchedPage(context);
    await signIn(page, "/ui/approvals");
    const card = page.locator(`article[data-review="${runId}/ask"]`);
    await expect.poll(() => card.count()).toBe(1);
    await card.getByLabel("Comment (optional)").fill("within budget");
    await card.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/decided=/);
    expect(await page.getByRole("status").textContent()).toContain(`Recorded: approve on step ask of run ${runId}`);
    expect(await page.locator(`article[data-review="${runId}/ask"]`).count()).toBe(0);

    const report = await waitForRunEnd(harness, runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({
      outcome: "bought a monitor arm",
      approval: { decision: "approve", comment: "within budget" },
    });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("refreshes a live run's page and a live row by themselves when the run moves on", async () => {
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await signIn(page, `/ui/runs/${runs.reminderWaiting}`);
    const live = page.locator("#live");
    expect(await live.getAttribute("data-run-status")).toBe("waiting");
    const list = await context.newPage();
    await list.goto(`${harness.baseUrl}/ui/runs?workflow=reminder`);
    const row = list.locator(`tr[data-run-id="${runs.reminderWaiting}"]`);
    expect(await row.getAttribute("data-status")).toBe("waiting");

    const cancelled = await harness.api(`/api/runs/${runs.reminderWaiting}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    // htmx polls (3 s on the page, 5 s per row): the new state arrives without a reload.
    await expect
      .poll(() => page.locator("#live").getAttribute("data-run-status"), { timeout: 15_000 })
      .toBe("cancelled");
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 15_000 }).toBe("cancelled");
    expect(await page.locator("#live").getAttribute("hx-trigger")).toBeNull();
    expect(await row.getAttribute("hx-trigger")).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  it.each([
    ["1280x800", { width: 1280, height: 800 }],
    ["phone width", { width: 390, height: 844 }],
  ])("has no serious accessibility violations on any page at %s", async (_, viewport) => {
    // axe is injected as a script of its own, which the pages' CSP would rightly block.
    const context = await browser.newContext({ bypassCSP: true, viewport });
    const page = await context.newPage();
    await signIn(page);
    const found: string[] = [];
    for (const path of [
      `/ui/runs/${runs.orderFailed}?step=charge`,
      "/ui/runs/bulk?workflow=order-flow&action=rerun",
      "/ui/runs",
      `/ui/runs/${runs.greetingLoud}?step=shout`,
      `/ui/runs/${runs.greetingQuiet}?from=0&to=4`,
      `/ui/runs/${runs.purchaseReview}/confirm/cancel`,
      `/ui/runs/${runs.orderFailed}/confirm/replay`,
      "/ui/workflows",
      "/ui/workflows/order-flow",
      "/ui/dead-letters",
      "/ui/approvals",
      "/ui/metrics",
    ]) {
      await page.goto(`${harness.baseUrl}${path}`);
      await page.addScriptTag({ path: axePath });
      const violations = await page.evaluate(async () => {
        const axe: AxeApi = Reflect.get(window, "axe");
        const result = await axe.run();
        return result.violations.map((violation) => ({
          id: violation.id,
          impact: violation.impact,
          count: violation.nodes.length,
        }));
      });
      for (const violation of violations) {
        if (violation.impact === "serious" || violation.impact === "critical") {
          found.push(`${path}: ${violation.id} (${violation.impact}, ${violation.count})`);
        }
      }
    }
    expect(found).toEqual([]);
    await context.close();
  });
});
