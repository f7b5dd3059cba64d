// The dashboard at size: the runs list with 100,000 runs in D1 (query plans, and the page
// against the JSON list for the same filter), and a 200-node workflow's page (its graph laid out
// by dagre on the server) against the JSON definition, and a 500-step run's page (3,000 attempts)
// against its JSON execution report. See docs/benchmarks.md, "Dashboard at size".
import { fmt, median, p95 } from "./stats.mjs";

const runCount = 100_000;
const seedBatch = 25_000;

function graphWorkflow(id, layers = 20, width = 10) {
  const name = (layer, k) => `n${layer}_${k}`;
  const nodes = [];
  const edges = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let k = 0; k < width; k++) {
      nodes.push({ id: name(layer, k), type: "transform", config: { set: { [`v${layer}_${k}`]: "1" } } });
      if (layer > 0) {
        edges.push({ from: name(layer - 1, k), to: name(layer, k) });
        edges.push({ from: name(layer - 1, (k + 1) % width), to: name(layer, k) });
      }
    }
  }
  return { id, name: "200-node graph", triggers: [{ type: "manual" }], nodes, edges };
}

// A definition holds at most 500 nodes (src/definition/schema.ts), so a run has at most 500
// steps: the largest run there can be, with 3,000 attempts between its steps.
const bigRunSteps = 500;
const bigRunAttempts = 6;

/** A chain of transforms, each retried: the shape the 1,000-step run is written for. */
function chainWorkflow(id, length) {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < length; i++) {
    nodes.push({
      id: `s${i}`,
      type: "transform",
      config: { set: { [`out_s${i}`]: String(i) } },
      retry: { maxAttempts: bigRunAttempts, backoff: "fixed", initialDelay: "20ms" },
    });
    if (i > 0) edges.push({ from: `s${i - 1}`, to: `s${i}` });
  }
  return { id, name: `${length}-step chain`, triggers: [{ type: "manual" }], nodes, edges };
}

async function expectOk(response, what) {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${(await response.text()).slice(0, 300)}`);
  return response;
}

/** One timed GET: the whole body read, as a browser or client would. */
async function timed(url, headers) {
  const began = performance.now();
  const response = await fetch(url, { headers, redirect: "manual" });
  const body = await response.text();
  const ms = performance.now() - began;
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${body.slice(0, 200)}`);
  return ms;
}

/** Page and JSON alternately (which goes first alternating), after a warm-up of each. */
async function sideBySide(ctx, pageUrl, jsonUrl, cookie, token) {
  const pageHeaders = { cookie };
  const jsonHeaders = { authorization: `Bearer ${token}` };
  for (let i = 0; i < ctx.warmup; i++) {
    await timed(pageUrl, pageHeaders);
    await timed(jsonUrl, jsonHeaders);
  }
  const page = [];
  const json = [];
  for (let i = 0; i < ctx.iterations; i++) {
    const pair = [
      async () => page.push(await timed(pageUrl, pageHeaders)),
      async () => json.push(await timed(jsonUrl, jsonHeaders)),
    ];
    for (const step of i % 2 ? pair.reverse() : pair) await step();
  }
  return { page, json };
}

async function signIn(url, token) {
  const response = await fetch(`${url}/ui/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token, next: "/ui/runs" }),
    redirect: "manual",
  });
  if (response.status !== 303) throw new Error(`sign-in: ${response.status}`);
  return (response.headers.get("set-cookie") ?? "").split(";")[0];
}

export async function dashboard(ctx, log) {
  const { url, token } = ctx.server;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const post = async (path, body) =>
    (
      await expectOk(await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) }), path)
    ).json();

  log(`dashboard: seeding ${runCount} runs and ${runCount} approval links in D1`);
  const seedBegan = performance.now();
  for (let from = 0; from < runCount; from += seedBatch) {
    await post("/api/__bench/seed-runs", { from, count: seedBatch });
    await post("/api/__bench/seed-approvals", { from, count: seedBatch });
  }
  const seedS = (performance.now() - seedBegan) / 1000;
  const { queries } = await (await expectOk(await fetch(`${url}/api/__bench/plans`, { headers }), "plans")).json();

  const cookie = await signIn(url, token);
  const filters = {
    "no filter": "",
    "status=failed": "status=failed",
    "workflow=bench-wf-3": "workflow=bench-wf-3",
  };
  const list = {};
  for (const [name, query] of Object.entries(filters)) {
    log(`dashboard: /ui/runs?${query} vs /api/runs?${query}`);
    list[name] = await sideBySide(ctx, `${url}/ui/runs?${query}`, `${url}/api/runs?${query}&limit=50`, cookie, token);
  }

  log("dashboard: a 200-node workflow's page vs its JSON definition");
  const graph = graphWorkflow("bench-graph-200");
  await expectOk(
    await fetch(`${url}/api/workflows`, { method: "POST", headers, body: JSON.stringify(graph) }),
    "register",
  );
  // The first view lays the graph out; later ones reuse the isolate's placement (dag-layout.ts).
  const cold = await timed(`${url}/ui/workflows/${graph.id}`, { cookie });
  const graphTimes = await sideBySide(
    ctx,
    `${url}/ui/workflows/${graph.id}`,
    `${url}/api/workflows/${graph.id}`,
    cookie,
    token,
  );

  log(`dashboard: a ${bigRunSteps}-step run's page (${bigRunSteps * bigRunAttempts} attempts) vs its JSON report`);
  const chain = chainWorkflow(`bench-run-${bigRunSteps}`, bigRunSteps);
  await expectOk(
    await fetch(`${url}/api/workflows`, { method: "POST", headers, body: JSON.stringify(chain) }),
    "register",
  );
  const { runId } = await post("/api/__bench/seed-run", { workflowId: chain.id, attemptsPerStep: bigRunAttempts });
  const runCold = await timed(`${url}/ui/runs/${runId}`, { cookie });
  const runTimes = await sideBySide(ctx, `${url}/ui/runs/${runId}`, `${url}/api/runs/${runId}`, cookie, token);
  return {
    runs: runCount,
    seedS,
    queries,
    list,
    graph: { nodes: graph.nodes.length, cold, ...graphTimes },
    run: { steps: bigRunSteps, attempts: bigRunSteps * bigRunAttempts, cold: runCold, ...runTimes },
  };
}

/** A plan reads the table itself, row by row, when a SCAN of it names no index. */
const scansTable = (plan) => /SCAN (runs|approvals)(?! USING)/.test(plan);

const listLimit = 3;
const graphLimit = 3;
const runPageLimit = 3;

export function dashboardReport(results, target) {
  const lines = [];
  lines.push("");
  lines.push(
    `dashboard with ${results.runs} runs and ${results.runs} approval links in D1 (seeded in ${fmt(results.seedS)} s)`,
  );
  lines.push(`${"query (as the pages build it)".padEnd(34)}${"D1 ms".padStart(7)}  plan`);
  for (const query of results.queries) {
    lines.push(`${query.name.padEnd(34)}${fmt(query.ms).padStart(7)}  ${query.plan}`);
  }
  lines.push(
    `${"page vs JSON (ms)".padEnd(34)}${"page med".padStart(9)} ${"p95".padStart(7)} ${"JSON med".padStart(9)} ${"p95".padStart(7)}  ratio`,
  );
  const pair = (label, { page, json }) =>
    `${label.padEnd(34)}${fmt(median(page)).padStart(9)} ${fmt(p95(page)).padStart(7)} ${fmt(median(json)).padStart(9)} ${fmt(p95(json)).padStart(7)}  ${fmt(median(page) / median(json))}x`;
  for (const [name, times] of Object.entries(results.list)) lines.push(pair(`/ui/runs ${name}`, times));
  lines.push(pair(`workflow page, ${results.graph.nodes} nodes`, results.graph));
  lines.push(`${"  its first view (dagre layout)".padEnd(34)}${fmt(results.graph.cold).padStart(9)}`);
  if (results.run) {
    lines.push(pair(`run page, ${results.run.steps} steps`, results.run));
    lines.push(`${"  its first view (dagre layout)".padEnd(34)}${fmt(results.run.cold).padStart(9)}`);
  }

  for (const query of results.queries) {
    target(!scansTable(query.plan), `index used at ${results.runs} rows: ${query.name}: ${query.plan}`);
  }
  for (const [name, { page, json }] of Object.entries(results.list)) {
    const ratio = median(page) / median(json);
    target(
      ratio <= listLimit,
      `runs list page (${name}, with counts by status) at ${results.runs} runs: ${fmt(median(page))} ms vs GET /api/runs ${fmt(median(json))} ms = ${fmt(ratio)}x (target <= ${listLimit}x)`,
    );
  }
  const graphRatio = median(results.graph.page) / median(results.graph.json);
  target(
    graphRatio <= graphLimit,
    `200-node workflow page (SVG of the isolate's dagre placement) ${fmt(median(results.graph.page))} ms vs its JSON definition ${fmt(median(results.graph.json))} ms = ${fmt(graphRatio)}x (target <= ${graphLimit}x)`,
  );
  if (results.run) {
    const runRatio = median(results.run.page) / median(results.run.json);
    target(
      runRatio <= runPageLimit,
      `run page, ${results.run.steps} steps with ${results.run.attempts} attempts, ${fmt(median(results.run.page))} ms vs GET /api/runs/:id ${fmt(median(results.run.json))} ms = ${fmt(runRatio)}x (target <= ${runPageLimit}x)`,
    );
  }
  lines.push("");
  return lines;
}
