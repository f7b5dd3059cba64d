// `--profile=linear|ttfs|webhooks`: a CPU profile of the Signalbox worker while it runs one
// workload, printed as self time per source module and per function, per unit of work.
import { profile } from "./profile.mjs";
import { webhooks } from "./scenarios.mjs";
import { fmt } from "./stats.mjs";

const workloads = {
  /** 20 runs of 100 no-op steps (plus 4 pings each), one after another. */
  async linear(ctx, system) {
    for (let i = 0; i < 20; i++) {
      const { runId } = await system.trigger("bench-linear", { i });
      await ctx.pings.wait(runId, "m100");
    }
    return { count: 2000, unit: "step" };
  },
  /** 10 runs of 100 io branches through the steps queue, one after another. */
  async "fanout-queue"(ctx, system) {
    for (let i = 0; i < 10; i++) {
      const { runId } = await system.trigger("bench-fanout-queue", { i });
      await ctx.pings.wait(runId, "end");
    }
    return { count: 1000, unit: "branch" };
  },
  /** 50 runs of the TTFS workflow, one after another. */
  async ttfs(ctx, system) {
    for (let i = 0; i < 50; i++) {
      const { runId } = await system.trigger("bench-ttfs", { i });
      await ctx.pings.wait(runId, "end");
    }
    return { count: 50, unit: "run" };
  },
  /** 3 s of webhook load from 8 connections; every run completes. */
  async webhooks(ctx, system) {
    const result = await webhooks(ctx, system, { seconds: 3, connections: 8 });
    return { count: result.completed, unit: "run" };
  },
};

/** `target` is a workerd inspector target: core:user:signalbox (default), d1:db (local D1), ... */
export async function profileWorkload(ctx, system, name, target) {
  const workload = workloads[name];
  if (!workload) throw new Error(`--profile takes one of ${Object.keys(workloads).join(", ")}`);
  await workload(ctx, system); // warm-up: compiled plans, JIT
  const result = await profile(ctx.server, target, async () => {
    const units = await workload(ctx, system);
    await new Promise((done) => setTimeout(done, 500)); // let trailing checkpoint flushes finish
    return units;
  });
  const { count, unit } = result.units;
  const busy = result.modules.filter(([name]) => name !== "(idle)").reduce((sum, [, ms]) => sum + ms, 0);
  const lines = [
    `CPU profile of ${target}, workload "${name}" on ${system.name}: ${count} ${unit}s in ${fmt(result.wallMs, 0)} ms wall`,
    `busy ${fmt(busy, 0)} ms = ${fmt((busy / count) * 1000, 0)} us per ${unit} (sampled every 100 us; the profiler adds overhead)`,
    "",
    `self time by module (us per ${unit}, share of busy time)`,
  ];
  const per = (ms) => `${fmt((ms / count) * 1000, 1).padStart(9)} us ${fmt((ms / busy) * 100, 1).padStart(5)}%`;
  for (const [module, ms] of result.modules.filter(([m]) => m !== "(idle)").slice(0, 22))
    lines.push(`${per(ms)}  ${module}`);
  lines.push("", `inclusive time of the project's own functions (top 25; stacks restart at each await)`);
  for (const [fn, ms] of result.inclusive.filter(([f]) => f.includes("[src/")).slice(0, 25))
    lines.push(`${per(ms)}  ${fn}`);
  lines.push("", `self time by function (top 30)`);
  for (const [fn, ms] of result.functions.filter(([f]) => !f.startsWith("(idle)")).slice(0, 30))
    lines.push(`${per(ms)}  ${fn}`);
  return lines.join("\n");
}
