// One `wrangler dev` hosting three workers: a front router (the only one wrangler exposes),
// Signalbox, and the Workflows baseline with the floor Durable Object.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  applyMigrations,
  probePort,
  projectRoot as root,
  wranglerBin as wrangler,
  wranglerEnv,
} from "../../scripts/lib/wrangler.mjs";

export { root };

/** A free port on 127.0.0.1. */
async function freePort() {
  const port = await probePort(0);
  if (port === undefined) throw new Error("no free port on 127.0.0.1");
  return port;
}

/** A config as wrangler reads it, rewritten with absolute paths so it can live in `dir`. */
async function absoluteConfig(configPath) {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  const base = dirname(resolve(configPath));
  const abs = (path) => (path && !isAbsolute(path) ? join(base, path) : path);
  const config = structuredClone(rawConfig);
  for (const key of ["main", "tsconfig", "base_dir"]) if (config[key]) config[key] = abs(config[key]);
  if (config.assets?.directory) config.assets.directory = abs(config.assets.directory);
  for (const db of config.d1_databases ?? []) if (db.migrations_dir) db.migrations_dir = abs(db.migrations_dir);
  return config;
}

/**
 * Writes the three configs. Signalbox's gets API_TOKEN as a var: wrangler passes `--var` only
 * to the first (exposed) worker, and a temp copy keeps the project's own .dev.vars out of it.
 */
async function writeConfigs(dir, token) {
  const signalbox = await absoluteConfig(join(root, "wrangler.toml"));
  // BENCH mounts the seeding and query-plan routes the dashboard scenario uses (src/routes/bench.ts).
  signalbox.vars = { ...signalbox.vars, API_TOKEN: token, BENCH: "1" };
  delete signalbox.triggers; // the watchdog cron never fires in wrangler dev anyway
  const sbDb = signalbox.d1_databases?.find((db) => db.binding === "DB");
  const baseline = await absoluteConfig(join(root, "bench", "baseline", "wrangler.toml"));
  for (const db of baseline.d1_databases) if (db.binding === "SIGNALBOX_DB") db.database_id = sbDb.database_id;
  const front = await absoluteConfig(join(root, "bench", "baseline", "front.toml"));
  for (const service of front.services) if (service.binding === "SIGNALBOX") service.service = signalbox.name;
  const paths = {};
  for (const [name, config] of Object.entries({ front, baseline, signalbox })) {
    await mkdir(join(dir, name), { recursive: true });
    paths[name] = join(dir, name, "wrangler.json");
    writeFileSync(paths[name], JSON.stringify(config, null, 2));
  }
  // wrangler dev rebuilds and restarts on every change under src/, and people edit it while
  // the bench runs: bundle Signalbox once and run that snapshot unbundled and unwatched.
  const dist = join(dir, "signalbox", "dist");
  const bundle = spawnSync(wrangler, ["deploy", "--dry-run", "--outdir", dist, "-c", paths.signalbox], {
    cwd: root,
    env: wranglerEnv(),
    encoding: "utf8",
  });
  if (bundle.status !== 0) throw new Error(`bundling Signalbox failed:\n${bundle.stdout}${bundle.stderr}`);
  writeFileSync(
    paths.signalbox,
    // The bundle imports the dashboard's htmx as a text module beside index.js; unbundled, the
    // rule has to name the file as it was written there (<hash>-htmx.min.js).
    JSON.stringify(
      {
        ...signalbox,
        main: join(dist, "index.js"),
        no_bundle: true,
        find_additional_modules: true,
        rules: [{ type: "Text", globs: ["**/*-htmx.min.js"], fallthrough: true }],
      },
      null,
      2,
    ),
  );
  return paths;
}

/**
 * Starts the dev server; `kill()` SIGKILLs its whole process group (wrangler and workerd)
 * like a crash, `start()` brings it back on the same port and state.
 */
export async function startServer({ dir, log = () => {}, profile = false, localObservability = false }) {
  const token = randomBytes(18).toString("base64url");
  const configs = await writeConfigs(dir, token);
  const persist = join(dir, "state");
  applyMigrations({ persistTo: persist, config: configs.signalbox, stdio: "pipe" });
  const port = await freePort();
  // Profiling puts Signalbox first (see profile.mjs); it then answers on the root URL.
  const order = profile
    ? [configs.signalbox, configs.baseline, configs.front]
    : [configs.front, configs.baseline, configs.signalbox];
  const probes = profile ? ["/health"] : ["/health", "/baseline/health"];
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(dir, "wrangler.log");
  const logStream = createWriteStream(logPath, { flags: "a" });
  let child;
  let exited = Promise.resolve();

  async function start() {
    const began = performance.now();
    const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist];
    for (const config of order) args.push("-c", config);
    args.push("--show-interactive-dev-session=false", "--log-level", process.env.BENCH_LOG_LEVEL ?? "warn");
    child = spawn(wrangler, args, {
      cwd: root,
      // wrangler dev streams every invocation's events and spans (each SQL statement, fetch and
      // log line of both workers) to a local trace-store Durable Object for its dashboard; that
      // collector shares the runtime's thread and would dominate what is measured
      // (docs/benchmarks.md, "Local observability"). `--local-observability` keeps it on.
      env: wranglerEnv({ X_LOCAL_OBSERVABILITY: localObservability ? "true" : "false" }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const proc = child;
    let status;
    exited = new Promise((done) =>
      proc.once("exit", (code, signal) => {
        status = signal ?? code;
        done();
      }),
    );
    proc.stdout.pipe(logStream, { end: false });
    proc.stderr.pipe(logStream, { end: false });
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (status !== undefined) throw new Error(`wrangler dev exited (${status}):\n${tail()}`);
      try {
        const answers = await Promise.all(
          probes.map((path) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(2_000) })),
        );
        if (answers.every((answer) => answer.ok)) break;
      } catch {}
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within 90 s:\n${tail()}`);
      await new Promise((done) => setTimeout(done, 10));
    }
    const readyMs = performance.now() - began;
    log(`wrangler dev ready on ${url} in ${Math.round(readyMs)} ms`);
    return readyMs;
  }

  function tail(lines = 30) {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  async function signal(name) {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      process.kill(-proc.pid, name);
    } catch {}
    await exited;
    child = undefined;
  }

  // However the harness ends, the dev server must not outlive it.
  process.once("exit", () => {
    try {
      if (child) process.kill(-child.pid, "SIGKILL");
    } catch {}
  });
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(name, () => process.exit(130));

  await start();
  return {
    url,
    /** The process group: wrangler and its workerd children. */
    pgid: () => child?.pid,
    token,
    persist,
    tail,
    start,
    kill: () => signal("SIGKILL"),
    async stop() {
      const proc = child;
      const timer = setTimeout(() => proc && signal("SIGKILL"), 5_000);
      await signal("SIGTERM");
      clearTimeout(timer);
      try {
        if (proc) process.kill(-proc.pid, "SIGKILL"); // workerd may outlive wrangler
      } catch {}
      logStream.end();
    },
  };
}
