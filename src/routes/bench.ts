import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { Env } from "../env";
import { errorData } from "../errors";
import { sortableId } from "../lib/ids";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type { BenchRunInput } from "../run/bench-run";
import { openLinksQuery } from "../store/approval-inbox";
import { database } from "../store/db";
import { countRunsQuery, type RunSearch, searchRunsQuery } from "../store/run-search";
import { getVersion } from "../store/workflows";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { isObject, readJson } from "./request";

/**
 * Routes for `npm run bench` only: they exist when the BENCH var is "1" (the bench's wrangler
 * config sets it; wrangler.toml does not) and answer 404 otherwise. They fill D1 with synthetic
 * rows in one statement per batch, and explain the exact queries the dashboard runs.
 */
export const benchRoutes = new Hono<{ Bindings: Env }>();

/** Seeding and explaining are an admin's business: the permission first, then whether BENCH is on. */
const benchOnly = [
  allow("workflows.write"),
  createMiddleware<{ Bindings: Env }>(async (c, next) => {
    if (c.env.BENCH !== "1") {
      return errorResponse(c, errorData("route.not_found", `no route ${c.req.method} ${c.req.path}`));
    }
    return next();
  }),
] as const;

/** The first synthetic run's created_at; one run per second after it. */
export const benchEpoch = Date.UTC(2026, 0, 1);

function batch(body: unknown): { from: number; count: number } | undefined {
  if (!isObject(body)) return undefined;
  const { from, count } = body;
  if (typeof from !== "number" || typeof count !== "number") return undefined;
  if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(count) || count < 1 || count > 50_000) {
    return undefined;
  }
  return { from, count };
}

/**
 * Runs `from` .. `from + count - 1`: ten workflows, a status mix with one in ten failed (with an
 * error code), one in fifty a child of the run before it. Ids are valid run ids, so pages link.
 */
benchRoutes.post("/seed-runs", ...benchOnly, async (c) => {
  const range = batch(await readJson(c));
  if (!range) return errorResponse(c, errorData("request.invalid", "send {from, count} (count 1..50000)"));
  const result = await c.env.DB.prepare(
    `INSERT INTO runs (id, workflow_id, version, status, trigger_type, created_at, updated_at, started_at, ended_at,
       error_code, error, parent_run_id)
     WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
     SELECT printf('run_bench%021d', i), 'bench-wf-' || (i % 10), 1,
       CASE WHEN i % 10 = 3 THEN 'failed' WHEN i % 25 = 7 THEN 'needs_review' WHEN i % 50 = 11 THEN 'running'
         ELSE 'success' END,
       'webhook', ?3 + i * 1000, ?3 + i * 1000 + 500, ?3 + i * 1000, ?3 + i * 1000 + 500,
       CASE WHEN i % 10 = 3 THEN (CASE WHEN i % 20 = 3 THEN 'node.timeout' ELSE 'http.status' END) END,
       CASE WHEN i % 10 = 3 THEN '{"code":"http.status","message":"synthetic"}' END,
       CASE WHEN i % 50 = 49 THEN printf('run_bench%021d', i - 1) END
     FROM n`,
  )
    .bind(range.from, range.count, benchEpoch)
    .run();
  return c.json({ inserted: result.meta.changes });
});

/** Approval links of the synthetic runs: all used, as nearly every link is once decided. */
benchRoutes.post("/seed-approvals", ...benchOnly, async (c) => {
  const range = batch(await readJson(c));
  if (!range) return errorResponse(c, errorData("request.invalid", "send {from, count} (count 1..50000)"));
  const result = await c.env.DB.prepare(
    `INSERT INTO approvals (id, token_hash, run_id, workflow_id, node_id, attempt, round, kind, purpose, approver,
       created_at, expires_at, used_at, decision, status)
     WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
     SELECT printf('apr_bench%021d', i), printf('bench-hash-%021d', i), printf('run_bench%021d', i),
       'bench-wf-' || (i % 10), 'ask', 1, 1, 'approval', 'decide', 'ann@example.com',
       ?3 + i * 1000, ?3 + i * 1000 + 86400000, ?3 + i * 1000 + 60000, 'approve', 'used'
     FROM n`,
  )
    .bind(range.from, range.count, benchEpoch)
    .run();
  return c.json({ inserted: result.meta.changes });
});

/** The run object's bench-only write, declared here: no other caller has any business with it. */
export interface BenchRunApi {
  benchWrite(input: BenchRunInput): Promise<{ created: boolean }>;
}

const benchRunMethods: MethodNames<BenchRunApi> = { benchWrite: true };

/**
 * One finished run of a registered workflow's latest version, every step with `attemptsPerStep`
 * attempts (the last one succeeding), written straight into a new run object
 * (src/run/bench-run.ts): the benchmark's 1,000-step run with 3,000 attempts, without waiting
 * for one to run.
 */
benchRoutes.post("/seed-run", ...benchOnly, async (c) => {
  const body = await readJson(c);
  const workflowId = isObject(body) ? body.workflowId : undefined;
  const attemptsPerStep = isObject(body) ? body.attemptsPerStep : undefined;
  if (
    typeof workflowId !== "string" ||
    typeof attemptsPerStep !== "number" ||
    !Number.isSafeInteger(attemptsPerStep) ||
    attemptsPerStep < 1 ||
    attemptsPerStep > 10
  ) {
    return errorResponse(c, errorData("request.invalid", "send {workflowId, attemptsPerStep} (attemptsPerStep 1..10)"));
  }
  const stored = await getVersion(database(c.env.DB), workflowId);
  if (!stored) return errorResponse(c, errorData("workflow.not_found", `no workflow ${workflowId.slice(0, 200)}`));
  const runId = sortableId("run");
  const stub = rpcStub<BenchRunApi>(c.env.RUNS.get(c.env.RUNS.idFromName(runId)), benchRunMethods);
  await stub.benchWrite({
    runId,
    workflowId,
    version: stored.version,
    definition: stored.definition,
    input: {},
    trigger: { type: "manual", id: null, receivedAt: Date.now() },
    attemptsPerStep,
  });
  return c.json({ runId }, 201);
});

interface Explained {
  name: string;
  plan: string;
  /** D1's own timing of the statement, in ms. */
  ms: number;
  rows: number;
}

async function explain(env: Env, name: string, query: { toSQL(): { sql: string; params: unknown[] } }) {
  const { sql, params } = query.toSQL();
  const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  const run = await env.DB.prepare(sql)
    .bind(...params)
    .all();
  return {
    name,
    plan: plan.results.map((row) => row.detail).join("; "),
    ms: run.meta.duration,
    rows: run.results.length,
  } satisfies Explained;
}

/** Every filter of the runs list, the counts by status, and the approvals inbox, as the pages build them. */
benchRoutes.get("/plans", ...benchOnly, async (c) => {
  const db = database(c.env.DB);
  const middle = benchEpoch + 50_000 * 1000;
  const filters: Record<string, RunSearch> = {
    none: {},
    workflow: { workflowId: "bench-wf-3" },
    status: { status: "failed" },
    "error code": { errorCode: "node.timeout" },
    "time range": { createdFrom: middle, createdTo: middle + 3_600_000 },
    parent: { parentRunId: "run_bench000000000000000049998" },
    "run id": { idPrefix: "run_bench0000000000000004999" },
    "workflow and status": { workflowId: "bench-wf-3", status: "failed" },
  };
  const explained: Explained[] = [];
  for (const [name, search] of Object.entries(filters)) {
    explained.push(await explain(c.env, `list: ${name}`, searchRunsQuery(db, search, { limit: 50 })));
  }
  // No filter, a status, a workflow: the kept counts (run_counts). An error code: the runs' index.
  explained.push(await explain(c.env, "counts: none", countRunsQuery(db, {})));
  explained.push(await explain(c.env, "counts: status", countRunsQuery(db, { status: "failed" })));
  explained.push(await explain(c.env, "counts: workflow", countRunsQuery(db, { workflowId: "bench-wf-3" })));
  explained.push(await explain(c.env, "counts: error code", countRunsQuery(db, { errorCode: "node.timeout" })));
  explained.push(await explain(c.env, "approvals inbox", openLinksQuery(db, Date.now(), 50)));
  return c.json({ queries: explained });
});
