// The scenarios. Each returns samples per system (ms unless named otherwise); run.mjs turns
// them into medians, p95s, ratios and PASS/FAIL lines.
import autocannon from "autocannon";

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Alternates which system goes first, iteration by iteration. */
function ordered(systems, i) {
  return i % 2 === 0 ? systems : [...systems].reverse();
}

/** Lets a finished run's trailing work (checkpoint flush, workflow completion) land first. */
async function settle(system, runId, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inside = await system.inside(runId);
    if (inside.done) return inside;
    if (Date.now() > deadline) throw new Error(`${system.name} run ${runId} did not end (${inside.status})`);
    await sleep(5);
  }
}

/**
 * Between two samples the runtime is left alone for `quietMs` (`--quiet`, 50 ms) after the run
 * has reported its end: work either system does behind its runs (Signalbox preparing its next
 * run object, Workflows tidying an instance) then lands in neither system's next sample.
 */
async function repeat({ systems, warmup, iterations, quietMs }, once) {
  const samples = Object.fromEntries(systems.map((s) => [s.name, []]));
  for (let i = -warmup; i < iterations; i++) {
    for (const system of ordered(systems, i)) {
      const sample = await once(system, i);
      if (i >= 0) samples[system.name].push(sample);
      await sleep(quietMs);
    }
  }
  return samples;
}

/** Trigger (client sends the request) to the first step's ping reaching the harness. */
export function ttfs(ctx) {
  return repeat(ctx, async (system, i) => {
    const { runId, sentAt } = await system.trigger("bench-ttfs", { i });
    const first = await ctx.pings.wait(runId, "start");
    await ctx.pings.wait(runId, "end");
    await settle(system, runId);
    return first - sentAt;
  });
}

/**
 * The path floor under TTFS: the front worker pings the harness at once, with no engine in
 * between. Both systems' TTFS contain this fixed cost; the targets compare what is left.
 */
export async function pathFloor(ctx) {
  const samples = [];
  for (let i = -ctx.warmup; i < ctx.iterations; i++) {
    const run = `path-floor-${i}-${Math.random().toString(36).slice(2)}`;
    const sentAt = performance.now();
    const response = await fetch(`${ctx.server.url}/__path-floor`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run, ping: `${ctx.pings.url}/ping/start` }),
    });
    await response.text();
    const at = await ctx.pings.wait(run, "start");
    if (i >= 0) samples.push(at - sentAt);
  }
  return samples;
}

/**
 * 100 no-op steps with pings before step 1 and after steps 10, 20, 80, 90 and 100.
 *
 * A chain of steps that do no I/O runs in one turn of the event loop, and Signalbox's writes of
 * that turn commit when it ends: after the ping that closes the chain has gone out, so the
 * commit lands in the next segment. Each segment therefore holds its own steps, one ping and
 * the commit of the chain before it. Steps 11-20 and 91-100 both follow a 10-step chain, so
 * they compare like for like (the slope). Per step: (m20 -> m90) holds 70 steps, 2 pings and
 * the commits of 10 + 60 steps; twice (m10 -> m20) holds 20 steps, 2 pings and the commits of
 * 10 + 10 steps (the first is of the run's start and steps 1-10). The difference, over 50, is
 * the cost of one step with its commit and without the pings.
 * `inside` is the per-step time by the run's own clock (s11 start to s90 start / 79).
 */
export function linear(ctx) {
  const marks = ["m0", "m10", "m20", "m80", "m90", "m100"];
  return repeat(ctx, async (system, i) => {
    const { runId, sentAt } = await system.trigger("bench-linear", { i });
    const [m0, m10, m20, , m90, m100] = await Promise.all(marks.map((m) => ctx.pings.wait(runId, m)));
    const { started } = await settle(system, runId);
    return {
      perStep: (m90 - m20 - 2 * (m20 - m10)) / 50,
      first10: m10 - m0,
      second10: m20 - m10,
      last10: m100 - m90,
      total: m100 - m0,
      ttfs: m0 - sentAt,
      inside: (started.s90 - started.s11) / 79,
    };
  });
}

/** 100 parallel no-op steps between two pings. */
export function fanout(ctx) {
  return repeat(ctx, async (system, i) => {
    const { runId } = await system.trigger("bench-fanout", { i });
    const start = await ctx.pings.wait(runId, "start");
    const end = await ctx.pings.wait(runId, "end");
    await settle(system, runId);
    return end - start;
  });
}

/** 100 parallel pings (io steps: through Signalbox's steps queue) between two pings. */
export function fanoutQueue(ctx) {
  return repeat(ctx, async (system, i) => {
    const { runId } = await system.trigger("bench-fanout-queue", { i });
    const start = await ctx.pings.wait(runId, "start");
    const end = await ctx.pings.wait(runId, "end");
    await settle(system, runId);
    return end - start;
  });
}

/**
 * Signalbox alone (a Workflows step's output is capped at 1 MiB): per-step overhead of 50 no-op
 * steps after a step that put a document of `small` or `large` bytes into the context,
 * alternating. ((m50 - m10) - (m10 - m0)) / 30 cancels the pings out as in `linear`.
 */
export async function contextSize(ctx, system, sizes) {
  const samples = Object.fromEntries(sizes.map((bytes) => [bytes, []]));
  for (let i = -ctx.warmup; i < ctx.iterations; i++) {
    for (const bytes of i % 2 === 0 ? sizes : [...sizes].reverse()) {
      const { runId } = await system.trigger(`bench-context-${bytes}`, { i });
      const [m0, m10, m50] = await Promise.all(["m0", "m10", "m50"].map((m) => ctx.pings.wait(runId, m)));
      await settle(system, runId);
      if (i >= 0) samples[bytes].push((m50 - m10 - (m10 - m0)) / 30);
    }
  }
  return samples;
}

/**
 * The floor: a Durable Object doing n steps of one SQLite row each in one request; per-step
 * cost is (time for n=100 - time for n=0) / 100 on an already-created object.
 */
export async function floor(ctx, mode) {
  const call = async (name, n) => {
    const began = performance.now();
    const response = await fetch(`${ctx.server.url}/baseline/floor/${name}?n=${n}&mode=${mode}`, { method: "POST" });
    const body = await response.json();
    return { ms: performance.now() - began, inside: body.insideMs };
  };
  const samples = [];
  for (let i = -ctx.warmup; i < ctx.iterations; i++) {
    const name = `floor-${mode}-${i}`;
    await call(name, 0); // creates the object
    const empty = await call(name, 0);
    const full = await call(name, 100);
    if (i >= 0) samples.push({ perStep: (full.ms - empty.ms) / 100, inside: full.inside / 100 });
  }
  return samples;
}

/**
 * Webhook load: autocannon POSTs distinct JSON bodies (identical ones would be deduplicated)
 * for `seconds`; every accepted run must then complete (its last step pings "done").
 * runs/s = completed runs / (last completion - load start).
 */
export async function webhooks(ctx, system, { seconds, connections }) {
  const runIds = [];
  let sent = 0;
  const tag = `${system.name}-${Date.now()}`;
  const started = performance.now();
  const result = await autocannon({
    url: `${ctx.server.url}${system.hookPath("bench-hook")}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest(request) {
          request.body = JSON.stringify({ n: sent++, tag });
          return request;
        },
        onResponse(status, body) {
          if (status === 202) runIds.push(JSON.parse(body).runId);
        },
      },
    ],
  });
  const loadEnded = performance.now();
  const deadline = Date.now() + 120_000;
  let done = [];
  for (;;) {
    done = runIds.map((id) => ctx.pings.time(id, "done")).filter((t) => t !== undefined);
    if (done.length === runIds.length || Date.now() > deadline) break;
    await sleep(20);
  }
  const last = done.length ? Math.max(...done) : Number.NaN;
  return {
    accepted: runIds.length,
    completed: done.length,
    errors: result.non2xx + result.errors + result.timeouts,
    acceptedPerSec: runIds.length / ((loadEnded - started) / 1000),
    runsPerSec: done.length / ((last - started) / 1000),
    drainMs: last - loadEnded,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

/**
 * Starts a run that sleeps `sleepMs` on each system, SIGKILLs the dev server's process group
 * once both are asleep, restarts it on the same state and waits for both runs to finish.
 * resume = completion - max(restart began, wake-up due): the sleep left is not counted, the
 * server's own start-up is. `afterReady` counts from when the server answered instead.
 */
export async function resume(ctx, systems, sleepMs, { killAfterMs = 300, graceMs = 30_000 } = {}) {
  const runs = [];
  for (const system of systems) {
    const { runId } = await system.trigger(`bench-resume-${sleepMs}`, {});
    runs.push({ system, runId });
  }
  for (const run of runs) run.start = await ctx.pings.wait(run.runId, "start");
  await sleep(killAfterMs);
  await ctx.server.kill();
  const restartBegan = performance.now();
  const startupMs = await ctx.server.start();
  const readyAt = performance.now();
  for (const system of systems) await system.reregister?.();
  const results = {};
  await Promise.all(
    runs.map(async ({ system, runId, start }) => {
      const due = start + sleepMs;
      const timeoutMs = Math.max(0, due - performance.now()) + graceMs;
      try {
        const end = await ctx.pings.wait(runId, "end", timeoutMs);
        results[system.name] = {
          resumeMs: end - Math.max(restartBegan, due),
          afterReadyMs: end - Math.max(readyAt, due),
          startupMs,
        };
      } catch {
        const { status } = await system.inside(runId).catch(() => ({ status: "unknown" }));
        const error = `did not finish within ${Math.round(timeoutMs / 1000)} s of the restart (status: ${status})`;
        results[system.name] = { resumeMs: Number.NaN, error, startupMs };
      }
    }),
  );
  return results;
}

/**
 * How many D1 checkpoint batches a 100-step run's checkpoints took (see d1Watch in the
 * baseline worker). One per step at least if each step awaited its checkpoint.
 */
export async function d1Batches(ctx, system, iterations) {
  const watch = `${ctx.server.url}/baseline/d1watch`;
  await fetch(watch, { method: "POST" });
  const batches = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const { runId } = await system.trigger("bench-linear", { i });
      await ctx.pings.wait(runId, "m100");
      await settle(system, runId);
      await sleep(200); // the last flush lands behind the run
      batches.push((await (await fetch(`${watch}/${runId}`)).json()).writes);
    }
  } finally {
    await fetch(watch, { method: "DELETE" });
  }
  return batches;
}
