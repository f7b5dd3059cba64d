// Flow control: what a concurrency gate adds to a trigger, and whether a gate's work per run
// stays flat as its queue grows. Signalbox only (the baseline has no flow control to compare).
import { fmt, median } from "./stats.mjs";

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function definition(id, flow, nodes) {
  return { id, name: id, ...(flow ? { flow } : {}), nodes };
}

const quick = [{ id: "a", type: "transform", config: { set: { done: "true" } } }];
const held = [{ id: "hold", type: "wait", config: { event: "go", timeout: "1h" } }];

async function post(server, path, body) {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Client-side time of one manual trigger's request (202 answered), in ms. */
async function timedTrigger(server, workflowId, input) {
  const began = performance.now();
  const { runId } = await post(server, `/api/workflows/${workflowId}/runs`, { input });
  return { ms: performance.now() - began, runId };
}

/**
 * `open`/`gated`: the same one-step workflow without and with `concurrency: [{limit: 1000}]`,
 * triggered alternately (every gated trigger is let through: one gate RPC more). `burst`: 1,000
 * triggers into one gate with limit 1 whose first run holds its slot while it waits (holdWhileWaiting), so the queue grows to 999:
 * the trigger time at queue depths 1-100 against 900-999.
 */
export async function flowGate(ctx, burstSize = 1_000) {
  const { server, warmup, iterations, quietMs } = ctx;
  await post(server, "/api/workflows", definition("bench-flow-open", undefined, quick));
  await post(server, "/api/workflows", definition("bench-flow-gated", { concurrency: [{ limit: 1000 }] }, quick));
  const samples = { open: [], gated: [] };
  const rounds = Math.max(iterations, 20);
  for (let i = -warmup; i < rounds; i++) {
    const order = i % 2 === 0 ? ["open", "gated"] : ["gated", "open"];
    for (const kind of order) {
      const { ms } = await timedTrigger(server, `bench-flow-${kind}`, { i });
      if (i >= 0) samples[kind].push(ms);
      await sleep(quietMs);
    }
  }
  await post(
    server,
    "/api/workflows",
    definition("bench-flow-burst", { concurrency: [{ limit: 1, holdWhileWaiting: true }] }, held),
  );
  const burst = [];
  for (let i = 0; i < burstSize; i++) burst.push((await timedTrigger(server, "bench-flow-burst", { i })).ms);
  return { ...samples, burst };
}

export function flowReport(flow, target) {
  const lines = [];
  const slice = (from, to) => flow.burst.slice(from, to);
  const first = slice(1, 101);
  const last = slice(flow.burst.length - 100);
  lines.push("");
  lines.push("flow control (Signalbox only)");
  lines.push(`  trigger, ungated                              ${fmt(median(flow.open)).padStart(9)} ms`);
  lines.push(`  trigger through a concurrency gate            ${fmt(median(flow.gated)).padStart(9)} ms`);
  lines.push(
    `  ${flow.burst.length}-run burst into one gate: trigger at queue depth 1-100 ${fmt(median(first))} ms, last 100 ${fmt(median(last))} ms`,
  );
  const gateRatio = median(flow.gated) / median(flow.open);
  target(
    gateRatio <= 1.3,
    `trigger through a concurrency gate: ${fmt(median(flow.gated))} ms vs ungated ${fmt(median(flow.open))} ms = ${fmt(gateRatio)}x (target <= 1.3x)`,
  );
  const slope = median(last) / median(first);
  target(
    slope <= 1.25 || median(last) - median(first) <= 0.5,
    `gate work per run over a ${flow.burst.length}-run burst: last 100 ${fmt(median(last))} ms vs first 100 ${fmt(median(first))} ms = ${fmt(slope)}x (target: flat, <= 1.25x or 0.5 ms)`,
  );
  return lines;
}
