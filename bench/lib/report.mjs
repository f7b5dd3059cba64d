// Turns raw samples into the printed table and the target lines.
import { dashboardReport } from "./dashboard.mjs";
import { flowReport } from "./flow.mjs";
import { fmt, median, p95 } from "./stats.mjs";

const pick = (rows, key) => (rows ?? []).map((row) => row[key]);

/** Each sample less the path floor, never below zero. */
function engineShare(samples, floorMs) {
  return samples.map((value) => Math.max(0, value - floorMs));
}

function row(label, a, b, { higherIsBetter = false } = {}) {
  const cells = [a, b].map((values) =>
    values?.length
      ? `${fmt(median(values)).padStart(9)} ${fmt(p95(values)).padStart(8)}`
      : `${"-".padStart(9)} ${"".padStart(8)}`,
  );
  const ratio = a?.length && b?.length ? median(a) / median(b) : Number.NaN;
  const ratioText = Number.isFinite(ratio) ? `${fmt(ratio)}x${higherIsBetter ? " (higher is better)" : ""}` : "";
  return `${label.padEnd(46)}${cells[0]}  ${cells[1]}   ${ratioText}`;
}

export function report(results) {
  const lines = [];
  const targets = [];
  const m = results.machine;
  lines.push("");
  lines.push(
    `Signalbox vs Cloudflare Workflows (baseline) in one wrangler dev${results.quick ? " [--quick: smoke run, targets not enforced]" : ""}`,
  );
  lines.push(
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; node ${m.node}, wrangler ${m.wrangler}, workerd ${m.workerd}; load ${m.loadAtStart} -> ${m.loadAtEnd}`,
  );
  lines.push(`source: commit ${m.commit}${m.srcChanged ? " plus uncommitted changes in src/" : ""}`);
  lines.push(
    `wrangler's local observability collector: ${results.localObservability ? "on (--local-observability)" : "off (X_LOCAL_OBSERVABILITY=false)"}`,
  );
  lines.push(
    `${results.plan.iterations} iterations per scenario after ${results.plan.warmup} warm-up, order alternating, ${results.quietMs} ms quiet after each run (--quiet); ${fmt(results.elapsedS, 0)} s in all`,
  );
  lines.push("");
  lines.push(`${"".padEnd(46)}${"signalbox".padStart(18)}  ${"baseline".padStart(18)}`);
  lines.push(
    `${"metric (ms unless noted)".padEnd(46)}${"median".padStart(9)} ${"p95".padStart(8)}  ${"median".padStart(9)} ${"p95".padStart(8)}   ratio`,
  );

  const { ttfs, pathFloor, linear, fanout, fanoutQueue, context, floor, webhooks, resume, d1Batches } = results;
  if (ttfs) {
    lines.push(row("TTFS: trigger -> first step", ttfs.signalbox, ttfs.baseline));
    if (pathFloor) {
      const floorMs = median(pathFloor);
      lines.push(row("  path floor: front worker pings at once", pathFloor, pathFloor));
      lines.push(
        row(
          "  engine share: TTFS minus the path floor",
          engineShare(ttfs.signalbox, floorMs),
          engineShare(ttfs.baseline, floorMs),
        ),
      );
    }
  }
  if (linear) {
    const [s, b] = [linear.signalbox, linear.baseline];
    lines.push(row("per-step overhead, 100 sequential no-ops", pick(s, "perStep"), pick(b, "perStep")));
    lines.push(row("  same, by the run's own clock (1 ms ticks)", pick(s, "inside"), pick(b, "inside")));
    lines.push(row("  steps 1-10 segment (10 steps + 1 ping)", pick(s, "first10"), pick(b, "first10")));
    lines.push(row("  steps 11-20 segment (10 steps + 1 ping)", pick(s, "second10"), pick(b, "second10")));
    lines.push(row("  steps 91-100 segment (10 steps + 1 ping)", pick(s, "last10"), pick(b, "last10")));
    lines.push(row("  whole run, first ping -> last ping", pick(s, "total"), pick(b, "total")));
    lines.push(row("  TTFS of this 106-node workflow", pick(s, "ttfs"), pick(b, "ttfs")));
  }
  if (fanout) lines.push(row("100-way fan-out -> join, no-op (pure) branches", fanout.signalbox, fanout.baseline));
  if (fanoutQueue) {
    lines.push(row("100-way fan-out -> join, io (http) branches", fanoutQueue.signalbox, fanoutQueue.baseline));
    lines.push("  (Signalbox sends the 100 attempts through its steps queue; the baseline runs 100 step.do)");
  }
  if (context) {
    const [small, large] = context.sizes.map((bytes) => context.samples[bytes]);
    lines.push(row("per-step overhead, 1 KiB context (Signalbox)", small, undefined));
    lines.push(row("per-step overhead, 5 MiB context (Signalbox)", large, undefined));
  }
  if (webhooks) {
    const [s, b] = [webhooks.signalbox, webhooks.baseline];
    lines.push(
      row("webhook runs/s, every run completed (runs/s)", pick(s, "runsPerSec"), pick(b, "runsPerSec"), {
        higherIsBetter: true,
      }),
    );
    lines.push(
      row("  accepted/s during the load (runs/s)", pick(s, "acceptedPerSec"), pick(b, "acceptedPerSec"), {
        higherIsBetter: true,
      }),
    );
    lines.push(row("  request latency p50 under load", pick(s, "latencyP50"), pick(b, "latencyP50")));
    lines.push(row("  request latency p99 under load", pick(s, "latencyP99"), pick(b, "latencyP99")));
    lines.push(
      row(
        "  drain: load end -> last run done (0: none)",
        pick(s, "drainMs").map((v) => Math.max(0, v)),
        pick(b, "drainMs").map((v) => Math.max(0, v)),
      ),
    );
    const [fresh, shared] = [webhooks["floor-fresh"], webhooks["floor-shared"]];
    if (fresh?.length) {
      const floorRow = (label, runs) =>
        row(label, pick(runs, "runsPerSec"), pick(b, "runsPerSec"), { higherIsBetter: true });
      lines.push("  floor: a bare object commits one row and pings (runs/s), against the baseline:");
      lines.push(floorRow("    a new object per run", fresh));
      lines.push(floorRow("    16 objects shared by all runs", shared));
    }
    const lost = [...s, ...b, ...(fresh ?? []), ...(shared ?? [])].filter(
      (r) => r.completed < r.accepted || r.errors > 0,
    );
    for (const r of lost) lines.push(`  !! ${r.accepted} accepted, ${r.completed} completed, ${r.errors} errors`);
  }
  for (const r of resume ?? []) {
    const label =
      r.sleepMs < (r.signalbox?.startupMs ?? 0) + 300 ? "wake overdue at restart" : "wake due after restart";
    lines.push(
      row(`resume after SIGKILL, ${r.sleepMs} ms sleep (${label})`, [r.signalbox?.resumeMs], [r.baseline?.resumeMs]),
    );
    lines.push(row("  the dev server's own start-up (same server)", [r.signalbox?.startupMs], [r.baseline?.startupMs]));
    lines.push(
      row(
        "  counted from the server answering (<=0: done by then)",
        [r.signalbox?.afterReadyMs],
        [r.baseline?.afterReadyMs],
      ),
    );
    for (const [name, v] of Object.entries(r)) if (v?.error) lines.push(`  !! ${name}: ${v.error}`);
  }
  if (floor) {
    lines.push("");
    lines.push("floor: a bare Durable Object, one SQLite row per step (per-step ms)");
    lines.push(row("  each row committed and awaited (sync)", pick(floor.commit, "perStep"), undefined));
    lines.push(row("  rows in one turn (one coalesced commit)", pick(floor.turn, "perStep"), undefined));
    lines.push(row("  commit + an awaited D1 insert per step", pick(floor.d1, "perStep"), undefined));
  }
  if (d1Batches) {
    lines.push(`D1 checkpoint batches per 106-step run (one per step if steps awaited them): ${d1Batches.join(", ")}`);
  }

  // ---- targets -------------------------------------------------------------------------
  const target = (ok, text) => targets.push(`${ok ? "PASS" : "FAIL"}  ${text}`);
  const ratioTarget = (name, a, b, limit, unit = "ms") => {
    const ratio = median(a) / median(b);
    target(
      ratio <= limit,
      `${name}: ${fmt(median(a))} ${unit} vs baseline ${fmt(median(b))} ${unit} = ${fmt(ratio)}x (target <= ${limit}x)`,
    );
  };
  if (linear) {
    ratioTarget("per-step overhead", pick(linear.signalbox, "perStep"), pick(linear.baseline, "perStep"), 0.25);
    const first = median(pick(linear.signalbox, "second10"));
    const last = median(pick(linear.signalbox, "last10"));
    const allowed = first + Math.max(0.1 * first, 0.1);
    target(
      last <= allowed,
      `slope: steps 91-100 ${fmt(last)} ms vs steps 11-20 ${fmt(first)} ms, each after a 10-step chain (target: no slower, 10% / 0.1 ms noise allowance)`,
    );
  } else targets.push("SKIP  per-step overhead and slope: linear scenario not run");
  if (ttfs && pathFloor) {
    // The target is about the engines: the client, proxy, front hop and ping server cost both
    // sides the same fixed time, which would pull any ratio towards 1.
    const floorMs = median(pathFloor);
    ratioTarget(
      `TTFS engine share (TTFS minus the ${fmt(floorMs)} ms path floor)`,
      engineShare(ttfs.signalbox, floorMs),
      engineShare(ttfs.baseline, floorMs),
      0.6,
    );
  } else if (ttfs) ratioTarget("TTFS", ttfs.signalbox, ttfs.baseline, 0.6);
  if (fanoutQueue) {
    ratioTarget(
      "100-way fan-out (io branches, through the steps queue)",
      fanoutQueue.signalbox,
      fanoutQueue.baseline,
      0.5,
    );
  } else if (fanout) ratioTarget("100-way fan-out (no-op branches, inline)", fanout.signalbox, fanout.baseline, 0.5);
  if (webhooks) {
    const a = median(pick(webhooks.signalbox, "runsPerSec"));
    const b = median(pick(webhooks.baseline, "runsPerSec"));
    target(a / b >= 2, `webhook runs/s: ${fmt(a)} vs baseline ${fmt(b)} = ${fmt(a / b)}x (target >= 2x)`);
  }
  if (context) {
    const [small, large] = context.sizes.map((bytes) => median(context.samples[bytes]));
    // A per-step cost near zero would make any ratio noise: 0.05 ms is allowed on top.
    target(
      large <= 1.5 * small + 0.05,
      `per-step overhead with 5 MiB of context: ${fmt(large)} ms vs ${fmt(small)} ms with 1 KiB = ${fmt(large / small)}x (target <= 1.5x, 0.05 ms noise allowance)`,
    );
  } else targets.push("SKIP  5 MiB vs 1 KiB context per-step overhead: context scenario not run");
  if (linear && floor && d1Batches) {
    // An awaited D1 write costs (floor with D1) - (floor without). A step that awaited one
    // would cost at least that; and every step awaiting its own checkpoint means at least one
    // D1 batch per step.
    const d1Cost = median(pick(floor.d1, "perStep")) - median(pick(floor.commit, "perStep"));
    const perStep = median(pick(linear.signalbox, "perStep"));
    const batches = median(d1Batches);
    target(
      perStep < d1Cost && batches < 106,
      `no D1 write awaited between sequential steps: a step costs ${fmt(perStep)} ms, one awaited D1 write ${fmt(d1Cost)} ms; ${fmt(batches, 0)} D1 batches for 106 steps`,
    );
  } else targets.push("SKIP  no D1 write awaited between steps: needs the linear, floor and d1 scenarios");
  if (results.dashboard) lines.push(...dashboardReport(results.dashboard, target));
  if (results.flow) lines.push(...flowReport(results.flow, target));
  lines.push("");
  lines.push(`targets${results.quick ? " (smoke run: shown, not enforced)" : ""}`);
  lines.push(...targets);
  const failed = targets.filter((t) => t.startsWith("FAIL")).length;
  return { text: lines.join("\n"), failed };
}
