// The baseline: the benchmark's scenarios written with Cloudflare Workflows, plus the floor
// (a bare Durable Object that commits one SQLite row per step). Plain JS so that the Node-side
// type check (tsconfig.node.json covers bench/**/*.ts) does not try to check Worker code.
import { DurableObject, WorkflowEntrypoint } from "cloudflare:workers";

/**
 * Runs a scenario "shape" (see bench/lib/shapes.mjs), the same list Signalbox's definition is
 * compiled from: `{ping}` posts to the harness from inside a step, `{noop: n}` is n sequential
 * steps, `{fanout: n}` n parallel steps joined before the next item, `{sleep: ms}` a sleep.
 */
export class BenchWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const { shape, ping } = event.payload;
    const runId = event.instanceId;
    // Each no-op step returns the time it ran, so per-step times can be read from inside too.
    const times = {};
    let n = 0;
    for (const item of shape) {
      if (item.ping) {
        await step.do(`ping-${item.ping}`, () => sendPing(ping, item.ping, runId));
      } else if (item.noop) {
        for (let i = 0; i < item.noop; i++) {
          const name = `s${++n}`;
          times[name] = await step.do(name, stamp);
        }
      } else if (item.fanout) {
        const branches = [];
        for (let i = 0; i < item.fanout; i++) branches.push(step.do(`f${++n}`, stamp));
        await Promise.all(branches);
      } else if (item.fanoutPing) {
        const branches = [];
        for (let i = 0; i < item.fanoutPing; i++) {
          const label = `b${++n}`;
          branches.push(step.do(label, () => sendPing(ping, label, runId)));
        }
        await Promise.all(branches);
      } else if (item.sleep) {
        await step.sleep(`w${++n}`, item.sleep);
      }
    }
    return { steps: n, times };
  }
}

async function stamp() {
  return Date.now();
}

async function sendPing(base, label, runId) {
  const response = await fetch(`${base}/ping/${label}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ run: runId }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The floor: `steps(n, mode)` does n steps in one request, each one SQLite row. */
export class FloorObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS steps (seq INTEGER PRIMARY KEY, at INTEGER, body TEXT)");
  }

  /**
   * mode "commit": each row is its own commit, awaited (`storage.sync()`), as a step whose
   * durable point is the DO's commit; "d1": the same plus an awaited D1 insert per step;
   * "turn": rows written back to back in one turn, so they coalesce into one commit.
   */
  async steps(n, mode) {
    const sql = this.ctx.storage.sql;
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      sql.exec("INSERT INTO steps (at, body) VALUES (?, ?)", Date.now(), '{"v":1}');
      if (mode === "turn") {
        await Promise.resolve();
        continue;
      }
      await this.ctx.storage.sync();
      if (mode === "d1") {
        await this.env.FLOOR_DB.prepare("INSERT INTO floor_steps (at, body) VALUES (?, ?)")
          .bind(Date.now(), "{}")
          .run();
      }
    }
    return { n, mode, insideMs: Date.now() - started };
  }

  /**
   * The webhook floor's "run": one row committed and awaited, then the "done" ping. Nothing
   * that keeps a run's state in its own object can do less per run.
   */
  async hook(runId, ping) {
    this.ctx.storage.sql.exec("INSERT INTO steps (at, body) VALUES (?, ?)", Date.now(), runId);
    await this.ctx.storage.sync();
    await sendPing(ping, "done", runId);
  }
}

/**
 * The webhook floor: `fresh` gives each request a new object (one object per run, as both
 * systems do); `shared` spreads requests over 16 objects (runs sharing objects).
 */
async function floorHook(env, mode, ping, body) {
  if (mode !== "fresh" && mode !== "shared") {
    return json({ error: { code: "floor.mode", message: `unknown floor mode ${mode}` } }, 404);
  }
  const runId = crypto.randomUUID();
  const id = mode === "fresh" ? env.FLOOR.newUniqueId() : env.FLOOR.idFromName(`hook-${Number(body.n) % 16}`);
  await env.FLOOR.get(id).hook(runId, ping);
  return json({ runId, status: "done" }, 202);
}

/**
 * Counts the writes of each run's row in Signalbox's D1. Every checkpoint batch Signalbox
 * flushes carries the run's row once, so this counts batches: a run whose every step waited
 * for its own checkpoint would show at least one per step. POST installs, DELETE removes,
 * GET /baseline/d1watch/:runId reads.
 */
async function d1Watch(db, runId, method) {
  // A plain append: conflict clauses inside a trigger would give way to the outer upsert's.
  const count = "INSERT INTO bench_run_writes (run_id) VALUES (NEW.id);";
  if (method === "POST") {
    await db.batch([
      db.prepare("CREATE TABLE IF NOT EXISTS bench_run_writes (run_id TEXT NOT NULL)"),
      db.prepare(`CREATE TRIGGER IF NOT EXISTS bench_runs_insert AFTER INSERT ON runs BEGIN ${count} END`),
      db.prepare(`CREATE TRIGGER IF NOT EXISTS bench_runs_update AFTER UPDATE ON runs BEGIN ${count} END`),
    ]);
    return json({ installed: true });
  }
  if (method === "DELETE") {
    await db.batch([
      db.prepare("DROP TRIGGER IF EXISTS bench_runs_insert"),
      db.prepare("DROP TRIGGER IF EXISTS bench_runs_update"),
    ]);
    return json({ installed: false });
  }
  const row = await db.prepare("SELECT COUNT(*) AS n FROM bench_run_writes WHERE run_id = ?").bind(runId).first();
  return json({ runId, writes: row?.n ?? 0 });
}

// Definitions live in memory: the harness registers them again after a restart.
const definitions = new Map();

function json(body, status = 200) {
  return Response.json(body, { status });
}

async function createRun(env, workflowId, input) {
  const definition = definitions.get(workflowId);
  if (!definition) return json({ error: { code: "workflow.not_found", message: workflowId } }, 404);
  const instance = await env.WORKFLOW.create({ params: { ...definition, input } });
  return json({ runId: instance.id, status: "queued" }, 202);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean).slice(1); // drop "baseline"
    const [resource, id, action] = parts;
    const method = request.method;
    if (resource === "health") return json({ ok: true });
    if (resource === "workflows" && method === "POST" && !id) {
      const { id: workflowId, shape, ping } = await request.json();
      definitions.set(workflowId, { shape, ping });
      return json({ workflowId }, 201);
    }
    if (resource === "workflows" && action === "runs" && method === "POST") {
      const body = await request.json();
      return createRun(env, id, body.input ?? {});
    }
    if (resource === "hooks" && method === "POST" && id) {
      return createRun(env, id, await request.json());
    }
    if (resource === "runs" && id && method === "GET") {
      const instance = await env.WORKFLOW.get(id);
      return json(await instance.status());
    }
    if (resource === "floor" && id && method === "POST") {
      const n = Number(url.searchParams.get("n") ?? "0");
      const mode = url.searchParams.get("mode") ?? "commit";
      if (mode === "d1") {
        await env.FLOOR_DB.prepare(
          "CREATE TABLE IF NOT EXISTS floor_steps (seq INTEGER PRIMARY KEY, at INTEGER, body TEXT)",
        ).run();
      }
      const stub = env.FLOOR.get(env.FLOOR.idFromName(id));
      return json(await stub.steps(n, mode));
    }
    if (resource === "floor-hook" && id && method === "POST") {
      return floorHook(env, id, url.searchParams.get("ping"), await request.json());
    }
    if (resource === "d1watch") return d1Watch(env.SIGNALBOX_DB, id, method);
    return json({ error: { code: "route.not_found", message: url.pathname } }, 404);
  },
};
