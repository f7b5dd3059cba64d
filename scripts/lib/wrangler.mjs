// Running wrangler from scripts and tests: the environment it needs, migrations, readiness.
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const wranglerBin = join(projectRoot, "node_modules", ".bin", "wrangler");

/**
 * The environment every wrangler child gets. node_modules/.bin goes first on PATH because
 * wrangler needs Node 22 (the `node` devDependency) while the machine may have an older one.
 * Telemetry, `Request.cf` lookups and the banner's version check are off: a local run sends
 * nothing anywhere.
 */
export function wranglerEnv(extra = {}) {
  return {
    ...process.env,
    PATH: `${join(projectRoot, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    ...extra,
  };
}

/**
 * Applies D1 migrations to the local database. CI=true makes wrangler take the default
 * answer to its "continue?" prompt instead of waiting for a keyboard.
 */
export function applyMigrations({ persistTo, config, stdio = "inherit" } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  if (config) args.push("-c", config);
  const result = spawnSync(wranglerBin, args, {
    cwd: projectRoot,
    env: wranglerEnv({ CI: "true" }),
    stdio: stdio === "inherit" ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (result.status !== 0) {
    const output = stdio === "inherit" ? "" : `\n${result.stdout}${result.stderr}`;
    throw new Error(`wrangler d1 migrations apply failed (exit ${result.status ?? result.signal})${output}`);
  }
}

/** The port if it is free on 127.0.0.1 (0 picks a free one), undefined if something holds it. */
export function probePort(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Polls GET {baseUrl}/health until it answers 200. `exited()` lets the caller stop early when
 * the server process is gone; the deadline bounds the wait.
 */
export async function waitForHealth(baseUrl, { timeoutMs = 60_000, exited = () => undefined } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`wrangler dev exited before it was ready (${gone})`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${baseUrl}/health did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
