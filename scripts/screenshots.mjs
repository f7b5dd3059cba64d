// `npm run screenshots`: starts `wrangler dev` on a fresh state, fills it with the demo runs,
// and writes each dashboard page at desktop (1280x800) and phone (390x844) width into
// docs/screenshots/. Everything stays on 127.0.0.1.
//
// The pictures are the same on every run: the demo's data is fixed and seeded to the same
// states, its ids, clock and the server's port are shown as fixed ones (screenshot-normalize.mjs),
// and a page is written only when its picture with the execution times blanked out (durations,
// timeline bars, charts) has changed: fingerprints.json keeps those pictures' fingerprints.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "./lib/chromium.mjs";
import { seedDemo } from "./lib/dashboard-demo.mjs";
import { fingerprint, normalizer, samePicture } from "./lib/screenshot-normalize.mjs";
import { applyMigrations, probePort, projectRoot, waitForHealth, wranglerBin, wranglerEnv } from "./lib/wrangler.mjs";

const outDir = join(projectRoot, "docs", "screenshots");
const printsFile = join(outDir, "fingerprints.json");
/** A port nothing listens on, the same every time: the order flow's charge fails against it. */
const deadPort = 9;
const sizes = [
  { name: "desktop", viewport: { width: 1280, height: 800 } },
  { name: "phone", viewport: { width: 390, height: 844 } },
];

async function startServer() {
  const persistDir = await mkdtemp(join(tmpdir(), "signalbox-screens-"));
  const port = await probePort(0);
  const inspectorPort = await probePort(0);
  const token = randomBytes(18).toString("base64url");
  const baseUrl = `http://127.0.0.1:${port}`;
  applyMigrations({ persistTo: persistDir, stdio: "pipe" });
  const child = spawn(
    wranglerBin,
    [
      "dev",
      ...["--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort)],
      ...["--persist-to", persistDir, "--var", `API_TOKEN:${token}`, "--var", `PUBLIC_URL:${baseUrl}`],
      "--show-interactive-dev-session=false",
    ],
    { cwd: projectRoot, env: wranglerEnv(), stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  let exited;
  child.once("exit", (code, signal) => {
    exited = `exit ${signal ?? code}`;
  });
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    await rm(persistDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, { timeoutMs: 60_000, exited: () => exited });
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, token, stop };
}

async function readPrints() {
  try {
    return JSON.parse(await readFile(printsFile, "utf8"));
  } catch {
    return {};
  }
}

/**
 * Writes the page's picture (fixed ids and clock) unless the same page, with execution times
 * blanked, looks as it did when its picture was last written.
 */
function shooter(prints, written, helper) {
  return async (page, normalize, file, shotOptions = {}) => {
    // No caret, focus ring or transition caught half-way: they are not the page.
    const options = { ...shotOptions, caret: "hide", animations: "disabled" };
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    await normalize(false);
    const picture = await page.screenshot(options);
    await normalize(true);
    // Until two pictures in a row agree: a live row swapped in or a late paint settles first.
    let compared = await page.screenshot(options);
    for (let tries = 0; tries < 5; tries++) {
      const again = await page.screenshot(options);
      if (again.equals(compared)) break;
      compared = again;
    }
    const print = await fingerprint(helper, compared);
    let exists = true;
    await readFile(join(outDir, file)).catch(() => {
      exists = false;
    });
    if (exists && samePicture(prints[file], print)) return;
    prints[file] = print;
    await writeFile(join(outDir, file), picture);
    written.push(file);
  };
}

/** A tab per size, signed in through the form (the sign-in page is captured on the way). */
async function signedIn(browser, server, size, shoot, normalize) {
  const context = await browser.newContext({ viewport: size.viewport });
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/ui/login`);
  await shoot(page, normalize(page), `login-${size.name}.png`);
  await page.getByLabel("API token").fill(server.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ui\/runs/);
  return { context, page };
}

async function main() {
  await mkdir(outDir, { recursive: true });
  const server = await startServer();
  const browser = await launchChromium();
  const prints = await readPrints();
  const helper = await browser.newPage();
  const written = [];
  const shoot = shooter(prints, written, helper);
  try {
    const start = Date.now();
    let runIds = [];
    const normalize = (page, sortRows = false) => normalizer(page, { runIds, origin: server.baseUrl, start, sortRows });
    const tabs = [];
    for (const size of sizes) {
      const tab = await signedIn(browser, server, size, shoot, normalize);
      // Before any run exists: the empty state that says how to start one.
      await shoot(tab.page, normalize(tab.page), `runs-empty-${size.name}.png`, { fullPage: true });
      tabs.push({ size, ...tab });
    }
    const runs = await seedDemo(server.baseUrl, server.token, deadPort);
    runIds = Object.values(runs);
    const pages = [
      { file: "runs", path: "/ui/runs" },
      { file: "runs-filtered", path: "/ui/runs?workflow=order-flow&status=failed" },
      { file: "runs-bulk", path: "/ui/runs/bulk?workflow=order-flow&action=rerun" },
      { file: "run", path: `/ui/runs/${runs.greetingLoud}?step=shout#step` },
      { file: "run-failed", path: `/ui/runs/${runs.orderFailed}?step=charge` },
      { file: "run-diff", path: `/ui/runs/${runs.greetingQuiet}?from=0&to=4#diff` },
      { file: "run-confirm", path: `/ui/runs/${runs.reminderWaiting}/confirm/cancel` },
      { file: "run-replay", path: `/ui/runs/${runs.orderFailed}/confirm/replay` },
      { file: "dead-letters", path: "/ui/dead-letters" },
      { file: "approvals", path: "/ui/approvals" },
      { file: "metrics", path: "/ui/metrics?window=1h", sortRows: true },
      { file: "workflows", path: "/ui/workflows" },
      { file: "workflow", path: "/ui/workflows/order-flow" },
      { file: "run-not-found", path: "/ui/runs/run_0000000000000000000000000a" },
    ];
    for (const { size, context, page } of tabs) {
      for (const entry of pages) {
        await page.goto(`${server.baseUrl}${entry.path}`);
        await shoot(page, normalize(page, entry.sortRows), `${entry.file}-${size.name}.png`, { fullPage: true });
      }
      await context.close();
    }
    await writeFile(printsFile, `${JSON.stringify(Object.fromEntries(Object.entries(prints).sort()), null, 2)}\n`);
    console.log(
      written.length > 0
        ? `${written.length} screenshots written to ${outDir}: ${written.join(", ")}`
        : `no page changed; nothing written to ${outDir}`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
