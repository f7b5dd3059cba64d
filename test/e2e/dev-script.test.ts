import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probePort, projectRoot } from "../../scripts/lib/wrangler.mjs";
import { waitFor } from "./harness";

/**
 * `npm run dev` as a person runs it: on a port of its own (not the default 8787) with its own
 * state, in a process group of its own as a terminal's foreground job is, so the test's SIGINT
 * to the group is what Ctrl-C sends.
 */
let dev: ChildProcess;
let output = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let port: number;
let baseUrl: string;
let persistDir: string;

function waitForOutput(text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dev.stdout?.off("data", check);
      reject(new Error(`no "${text}" within ${timeoutMs} ms; output:\n${output.slice(-4_000)}`));
    }, timeoutMs);
    const check = () => {
      if (!output.includes(text)) return;
      clearTimeout(timer);
      dev.stdout?.off("data", check);
      resolve();
    };
    dev.stdout?.on("data", check);
    check();
  });
}

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "signalbox-dev-"));
  const free = await probePort(0);
  if (free === undefined) throw new Error("no free port on 127.0.0.1");
  port = free;
  baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), PERSIST_TO: persistDir };
  for (const name of Object.keys(env)) if (name.startsWith("LLM_")) delete env[name];
  dev = spawn("npm", ["run", "dev"], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  exited = new Promise((resolve) => dev.once("exit", (code, signal) => resolve({ code, signal })));
  const collect = (chunk: Buffer) => {
    output += stripVTControlCharacters(chunk.toString("utf8"));
  };
  dev.stdout?.on("data", collect);
  dev.stderr?.on("data", collect);
  // The last line of the usage `npm run dev` prints once the examples are registered.
  await waitForOutput("[signalbox] outbox", 120_000);
});

afterAll(async () => {
  // A failed test must not leave a server behind.
  if (dev?.pid && dev.exitCode === null && dev.signalCode === null) {
    try {
      process.kill(-dev.pid, "SIGKILL");
    } catch {}
    await exited;
  }
  await rm(persistDir, { recursive: true, force: true });
});

describe("npm run dev on another PORT", () => {
  it("registers every example without a refused request, and prints URLs on its own port", () => {
    const registrations = output.split("\n").filter((line) => /^\[signalbox\] {3}\S+\.json: /.test(line));
    expect(registrations.length).toBeGreaterThanOrEqual(7);
    for (const line of registrations) expect(line).toMatch(/: created v1$/);
    // wrangler logs every request: greet-many before greet-one was a POST answered 422.
    expect(output).toContain("POST /api/workflows 201");
    expect(output).not.toMatch(/POST \/api\/workflows 4\d\d/);
    expect(output).toContain(`[signalbox] webhook  ${baseUrl}/hooks/support-ticket`);
    expect(output).toContain("[signalbox] email    invoices@example.com -> invoice-intake");
    expect(output).toContain(
      `[signalbox]   curl -s -X POST '${baseUrl}/cdn-cgi/local/email?from=sender@example.com&to=invoices@example.com' --data-binary @message.eml`,
    );
  });

  it("pages support-ticket's stand-in pager on its own origin", async () => {
    const token = /authorization: Bearer (\S+?)\)/.exec(output)?.[1];
    expect(token).toBeDefined();
    const pager = `${baseUrl}/hooks/pager`;
    // A dry run: the model's answer and the review are mocked, the page request is recorded.
    const response = await fetch(`${baseUrl}/api/workflows/support-ticket/test`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        input: { id: "T-1", name: "Ada", text: "The site is down" },
        mocks: {
          analyze: { output: { analysis: { priority: "high", summary: "The site is down", confidence: 0.9 } } },
          confirm: { review: { decision: "approve", edits: { severity: "sev1" } } },
        },
        http: [{ method: "POST", url: pager, status: 202 }],
      }),
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { status: string; calls: { nodeId: string; url: string }[] };
    expect(report.calls).toMatchObject([{ nodeId: "page", method: "POST", url: pager, status: 202, mocked: true }]);
    expect(report.status).toBe("success");
  });

  it("stops cleanly on Ctrl-C: wrangler, esbuild and workerd go, with no stack trace", async () => {
    process.kill(-(dev.pid as number), "SIGINT");
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still running 30 s after SIGINT:\n${output.slice(-4_000)}`)), 30_000),
    );
    await Promise.race([exited, timeout]);
    expect(output).toContain("[signalbox] stopping wrangler dev");
    expect(output).toContain("[signalbox] stopped");
    expect(output).not.toMatch(/goroutine|fatal error|panic:|npm error/i);
    // workerd held the port: it comes free, nothing of the server runs on.
    await waitFor("the port to be free", async () => ((await probePort(port)) === port ? true : undefined), {
      timeoutMs: 10_000,
    });
  });
});
