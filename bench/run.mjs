// `npm run bench -- [--quick] [--only=ttfs,linear,...,dashboard,flow] [--json=FILE] [--state-dir=DIR] [--strict] [--quiet=MS]`
// `npm run bench -- --profile=linear|ttfs|webhooks|fanout-queue [--profile-target=d1:db]`
// One `wrangler dev` hosts Signalbox and a Cloudflare Workflows baseline; every scenario runs
// on both, alternating which goes first, after a warm-up. Prints medians, p95s, ratios and
// PASS/FAIL lines for the targets. See docs/benchmarks.md.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dashboard } from "./lib/dashboard.mjs";
import { flowGate } from "./lib/flow.mjs";
import { machine } from "./lib/machine.mjs";
import { startPings } from "./lib/pings.mjs";
import { profileWorkload } from "./lib/profile-workloads.mjs";
import { report } from "./lib/report.mjs";
import * as scenario from "./lib/scenarios.mjs";
import { startServer } from "./lib/server.mjs";
import { shapes } from "./lib/shapes.mjs";
import { baseline, hookFloor, signalbox } from "./lib/systems.mjs";

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "string" },
    "state-dir": { type: "string" },
    strict: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "local-observability": { type: "boolean", default: false },
    quiet: { type: "string", default: "50" },
    profile: { type: "string" },
    "profile-target": { type: "string", default: "core:user:signalbox" },
  },
});

const plan = options.quick
  ? { warmup: 1, iterations: 2, hookSeconds: 1, connections: 4, hookRounds: 1, resumeSleeps: [1000], d1Runs: 1 }
  : {
      warmup: 3,
      iterations: 20,
      hookSeconds: 5,
      connections: 16,
      hookRounds: 2,
      resumeSleeps: [1000, 8000],
      d1Runs: 5,
    };
const all = [
  "ttfs",
  "linear",
  "fanout",
  "fanout-queue",
  "context",
  "floor",
  "webhooks",
  "d1",
  "resume",
  "dashboard",
  "flow",
];
/** The context-size scenario's two documents: 1 KiB and 5 MiB. */
const contextSizes = [1024, 5 * 1024 * 1024];
const selected = new Set(options.only ? options.only.split(",") : all);
const log = (line) => console.error(`[bench] ${line}`);

async function main() {
  const began = performance.now();
  const pings = await startPings();
  const dir = await mkdtemp(join(options["state-dir"] ?? tmpdir(), "signalbox-bench-"));
  log(`state in ${dir}`);
  const server = await startServer({
    dir,
    log,
    profile: Boolean(options.profile),
    localObservability: options["local-observability"],
  });
  const systems = [signalbox(server, pings.url), baseline(server, pings.url)];
  const [sb] = systems;
  const quietMs = Number(options.quiet);
  if (!Number.isFinite(quietMs) || quietMs < 0) throw new Error(`--quiet takes milliseconds, not ${options.quiet}`);
  const ctx = { server, pings, systems, warmup: plan.warmup, iterations: plan.iterations, quietMs };
  const results = {
    plan,
    quick: options.quick,
    localObservability: options["local-observability"],
    quietMs,
    machine: await machine(),
  };
  if (options.profile) {
    try {
      await sb.register("bench-ttfs", shapes.ttfs);
      await sb.register("bench-linear", shapes.linear);
      await sb.register("bench-hook", shapes.hook);
      await sb.register("bench-fanout-queue", shapes.fanoutQueue);
      console.log(await profileWorkload(ctx, sb, options.profile, options["profile-target"]));
    } finally {
      await server.stop();
      await pings.close();
      if (!options.keep) await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  try {
    for (const system of systems) {
      await system.register("bench-ttfs", shapes.ttfs);
      await system.register("bench-linear", shapes.linear);
      await system.register("bench-fanout", shapes.fanout);
      await system.register("bench-fanout-queue", shapes.fanoutQueue);
      await system.register("bench-hook", shapes.hook);
      for (const ms of plan.resumeSleeps) await system.register(`bench-resume-${ms}`, shapes.resume(ms));
    }

    for (const bytes of contextSizes) await sb.register(`bench-context-${bytes}`, shapes.context(bytes));

    if (selected.has("ttfs")) {
      log("TTFS");
      results.ttfs = await scenario.ttfs(ctx);
      results.pathFloor = await scenario.pathFloor(ctx);
    }
    if (selected.has("linear")) {
      log("linear 100 steps");
      results.linear = await scenario.linear(ctx);
    }
    if (selected.has("fanout")) {
      log("100-way fan-out");
      results.fanout = await scenario.fanout(ctx);
    }
    if (selected.has("fanout-queue")) {
      log("100-way fan-out of io steps (Signalbox: through the steps queue)");
      results.fanoutQueue = await scenario.fanoutQueue(ctx);
    }
    if (selected.has("context")) {
      log("per-step overhead with 1 KiB and 5 MiB of context (Signalbox)");
      results.context = { sizes: contextSizes, samples: await scenario.contextSize(ctx, sb, contextSizes) };
    }
    if (selected.has("floor") || selected.has("d1")) {
      log("floor");
      results.floor = {};
      for (const mode of ["commit", "turn", "d1"]) results.floor[mode] = await scenario.floor(ctx, mode);
    }
    if (selected.has("d1")) {
      log("D1 checkpoint batches per run");
      results.d1Batches = await scenario.d1Batches(ctx, sb, plan.d1Runs);
    }
    if (selected.has("webhooks")) {
      // The two floors run after the systems in each round: what one object per run costs
      // at the least, and what runs sharing objects would.
      const floors = ["fresh", "shared"].map((mode) => hookFloor(mode, pings.url));
      results.webhooks = Object.fromEntries([...systems, ...floors].map((s) => [s.name, []]));
      for (let round = 0; round < plan.hookRounds; round++) {
        for (const system of [...(round % 2 ? [...systems].reverse() : systems), ...floors]) {
          log(`webhook load on ${system.name} (${plan.hookSeconds} s, ${plan.connections} connections)`);
          const result = await scenario.webhooks(ctx, system, {
            seconds: plan.hookSeconds,
            connections: plan.connections,
          });
          results.webhooks[system.name].push(result);
        }
      }
    }
    if (selected.has("resume")) {
      results.resume = [];
      for (const ms of plan.resumeSleeps) {
        log(`SIGKILL mid-run (sleep ${ms} ms) and restart`);
        const graceMs = options.quick ? 8_000 : 30_000;
        results.resume.push({ sleepMs: ms, ...(await scenario.resume(ctx, systems, ms, { graceMs })) });
      }
    }
    if (selected.has("flow")) {
      log("flow control: gated vs ungated trigger, and a burst into one gate");
      results.flow = await flowGate(ctx, options.quick ? 200 : 1_000);
    }
    if (selected.has("dashboard")) {
      log("dashboard at size");
      results.dashboard = await dashboard(ctx, log);
    }
  } catch (error) {
    log(`harness failed: ${error.stack ?? error}`);
    log(`wrangler output:\n${server.tail()}`);
    process.exitCode = 1;
  } finally {
    await server.stop();
    await pings.close();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
  if (process.exitCode) return;
  results.elapsedS = (performance.now() - began) / 1000;
  results.machine.loadAtEnd = Math.round(loadavg()[0] * 100) / 100;
  const { text, failed } = report(results);
  console.log(text);
  if (options.json) await writeFile(options.json, JSON.stringify(results, null, 2));
  if (options.strict && failed > 0 && !options.quick) process.exitCode = 1;
}

await main();
