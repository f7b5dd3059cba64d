import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  applyMigrations,
  probePort,
  projectRoot,
  waitForHealth,
  wranglerBin,
  wranglerEnv,
} from "../../scripts/lib/wrangler.mjs";
import type { ExecutionReport } from "../../src/run/report";
import { startTestServer } from "../support/test-server";

/**
 * One `wrangler dev` on 127.0.0.1 with its own state directory, the way a user runs it.
 * It runs in a process group of its own, so `kill()` takes workerd down with it: nothing
 * gets to shut down cleanly, as in a crash. `restart()` starts over on the same state.
 */
export interface Harness {
  baseUrl: string;
  port: number;
  token: string;
  persistDir: string;
  /** fetch against the server with the API token; `path` starts with `/`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** SIGKILL to the whole process group; resolves once wrangler is gone. */
  kill(): Promise<void>;
  /** Starts wrangler dev again on the same port and state; resolves once /health answers. */
  restart(): Promise<void>;
  /** Stops wrangler (if running) and removes the state directory. */
  stop(): Promise<void>;
  /** The last lines wrangler printed, for failure messages. */
  logTail(lines?: number): string;
  /** Milliseconds each start took until /health answered. */
  startTimes: number[];
}

export interface HarnessOptions {
  /** Extra `--var NAME:value` bindings, such as webhook secrets that triggers name. */
  vars?: Record<string, string>;
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/**
 * A test file's fixtures: a test server on 127.0.0.1 and a `wrangler dev`, started before the
 * file's tests and stopped after them; `ready` hands both to the file.
 */
export function useHarness(
  ready: (harness: Harness, testServer: TestServer) => void,
  options: HarnessOptions = {},
): void {
  let harness: Harness | undefined;
  let testServer: TestServer | undefined;
  beforeAll(async () => {
    testServer = await startTestServer();
    harness = await startHarness(options);
    ready(harness, testServer);
  });
  afterAll(async () => {
    await harness?.stop();
    await testServer?.close();
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const persistDir = await mkdtemp(join(tmpdir(), "signalbox-e2e-"));
  const port = await probePort(0);
  const inspectorPort = await probePort(0);
  if (port === undefined || inspectorPort === undefined) throw new Error("no free port on 127.0.0.1");
  const token = randomBytes(18).toString("base64url");
  const baseUrl = `http://127.0.0.1:${port}`;
  const logPath = join(persistDir, "wrangler.log");
  const log: WriteStream = createWriteStream(logPath, { flags: "a" });
  applyMigrations({ persistTo: persistDir, stdio: "pipe" });

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const startTimes: number[] = [];

  async function start(): Promise<void> {
    const began = Date.now();
    log.write(`\n--- wrangler dev starting at ${new Date(began).toISOString()}\n`);
    const proc = spawn(
      wranglerBin,
      [
        "dev",
        "--port",
        String(port),
        "--ip",
        "127.0.0.1",
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        persistDir,
        "--var",
        `API_TOKEN:${token}`,
        "--var",
        `PUBLIC_URL:${baseUrl}`,
        ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
        "--show-interactive-dev-session=false",
      ],
      { cwd: projectRoot, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    child = proc;
    let exitStatus: string | undefined;
    exited = new Promise((resolve) =>
      proc.once("exit", (code, signal) => {
        exitStatus = `exit ${signal ?? code}`;
        log.write(`--- wrangler dev ${exitStatus}\n`);
        resolve();
      }),
    );
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    try {
      await waitForHealth(baseUrl, { timeoutMs: 60_000, exited: () => exitStatus });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logTail()}`);
    }
    startTimes.push(Date.now() - began);
  }

  function logTail(lines = 40): string {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  function signal(proc: ChildProcess, name: NodeJS.Signals): void {
    try {
      if (proc.pid) process.kill(-proc.pid, name);
    } catch {}
  }

  async function signalGroup(name: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) signal(proc, name);
    await exited;
    // workerd may outlive wrangler: whatever is left of the group goes too.
    signal(proc, "SIGKILL");
    child = undefined;
  }

  // A test runner that exits without calling stop() must not leave a server behind.
  const reap = () => child && signal(child, "SIGKILL");
  process.once("exit", reap);

  try {
    await start();
  } catch (error) {
    await signalGroup("SIGKILL");
    process.off("exit", reap);
    log.end();
    await rm(persistDir, { recursive: true, force: true });
    throw error;
  }
  return {
    baseUrl,
    port,
    token,
    persistDir,
    startTimes,
    logTail,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
      return fetch(`${baseUrl}${path}`, { ...init, headers });
    },
    kill: () => signalGroup("SIGKILL"),
    async restart() {
      await signalGroup("SIGKILL");
      await start();
    },
    async stop() {
      const proc = child;
      // A clean stop first; SIGKILL if wrangler lingers.
      const timer = proc && setTimeout(() => signal(proc, "SIGKILL"), 5_000);
      await signalGroup("SIGTERM");
      clearTimeout(timer);
      process.off("exit", reap);
      log.end();
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}

/**
 * Calls `probe` until it returns something other than undefined, or fails after `timeoutMs`
 * with the last value seen. For polling the API or the test server, never for waiting out time.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 50, harness }: { timeoutMs?: number; intervalMs?: number; harness?: Harness } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? ` (last error: ${String(lastError)})` : "";
      const logs = harness ? `\n--- wrangler output ---\n${harness.logTail()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The execution report as the API serves it: the engine's own type, read over HTTP. */
export type RunReport = ExecutionReport;
export type StepReport = ExecutionReport["steps"][number];

export async function getReport(harness: Harness, runId: string): Promise<RunReport> {
  const response = await harness.api(`/api/runs/${runId}`);
  if (response.status !== 200) throw new Error(`GET /api/runs/${runId} answered ${response.status}`);
  return (await response.json()) as RunReport;
}

const terminal = new Set(["success", "failed", "cancelled"]);

/** Polls the run's report until the run has ended. */
export function waitForRunEnd(harness: Harness, runId: string, timeoutMs = 30_000): Promise<RunReport> {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const report = await getReport(harness, runId);
      return terminal.has(report.status) ? report : undefined;
    },
    { timeoutMs, harness },
  );
}

export async function registerWorkflow(harness: Harness, definition: unknown): Promise<{ version: number }> {
  const response = await harness.api("/api/workflows", { method: "POST", body: JSON.stringify(definition) });
  const body = (await response.json()) as { version: number };
  // 200: the definition already is the latest version (unchanged).
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`registering failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}

export function step(report: RunReport, nodeId: string): StepReport {
  const found = report.steps.find((entry) => entry.nodeId === nodeId);
  if (!found) throw new Error(`report of ${report.runId} has no step ${nodeId}`);
  return found;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
