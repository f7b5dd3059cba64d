import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/store/db";
import { countRunsByStatus, countRunsQuery, type RunSearch } from "../../src/store/run-search";
import { api, register, settle, startManual } from "./helpers";

/** The counts as a full count of `runs` gives them: what `run_counts` must always equal. */
async function countedFromRuns(workflowId?: string): Promise<Record<string, number>> {
  const rows = await env.DB.prepare(
    `SELECT status, COUNT(*) AS count FROM runs ${workflowId ? "WHERE workflow_id = ?1" : ""} GROUP BY status`,
  )
    .bind(...(workflowId ? [workflowId] : []))
    .all<{ status: string; count: number }>();
  return Object.fromEntries(rows.results.map((row) => [row.status, row.count]));
}

async function kept(): Promise<{ workflow_id: string; status: string; count: number }[]> {
  const rows = await env.DB.prepare(
    "SELECT workflow_id, status, count FROM run_counts WHERE count <> 0 ORDER BY 1, 2",
  ).all<{ workflow_id: string; status: string; count: number }>();
  return rows.results;
}

async function plan(search: RunSearch): Promise<string> {
  const { sql, params } = countRunsQuery(database(env.DB), search).toSQL();
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return rows.results.map((row) => row.detail).join("; ");
}

describe("counts by status kept as runs change", () => {
  it("follow real runs as they start, wait, finish, are cancelled and are deleted", async () => {
    await register({
      id: "counted",
      name: "Counted",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "hold", type: "wait", config: { event: "go", timeout: "1h", output: "got" } }],
      edges: [],
    });
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push(await startManual("counted"));
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");
    const db = database(env.DB);
    expect(await countRunsByStatus(db, { workflowId: "counted" })).toEqual({ waiting: 3 });

    const [finished, cancelled, deleted] = runIds as [string, string, string];
    expect((await api(`/api/runs/${finished}/events/go`, { method: "POST", json: {} })).status).toBe(202);
    expect((await settle(finished)).status).toBe("success");
    expect((await api(`/api/runs/${cancelled}/cancel`, { method: "POST", json: {} })).status).toBe(200);
    expect((await settle(cancelled)).status).toBe("cancelled");
    expect(await countRunsByStatus(db, { workflowId: "counted" })).toEqual({ waiting: 1, success: 1, cancelled: 1 });

    expect((await api(`/api/runs/${deleted}/cancel`, { method: "POST", json: {} })).status).toBe(200);
    await settle(deleted);
    expect((await api(`/api/runs/${deleted}`, { method: "DELETE" })).status).toBe(200);
    expect(await countRunsByStatus(db, { workflowId: "counted" })).toEqual({ success: 1, cancelled: 1 });
    expect(await countRunsByStatus(db, { workflowId: "counted" })).toEqual(await countedFromRuns("counted"));
    expect(await countRunsByStatus(db, {})).toEqual(await countedFromRuns());
  });

  it("equal a full count after inserts, upserts that change or keep a status, and deletes", async () => {
    const insert = env.DB.prepare(
      `INSERT INTO runs (id, workflow_id, version, status, trigger_type, created_at, updated_at)
       VALUES (?1, ?2, 1, ?3, 'manual', ?4, ?4)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= runs.updated_at`,
    );
    const statuses = ["running", "failed", "success", "needs_review"];
    await env.DB.batch(
      Array.from({ length: 40 }, (_, i) =>
        insert.bind(`run_bulk${String(i).padStart(4, "0")}`, `bulk-${i % 3}`, statuses[i % 4], 1000 + i),
      ),
    );
    // The checkpointer's upsert: a newer row moves its run to another status, an older one is ignored.
    await env.DB.batch([
      insert.bind("run_bulk0000", "bulk-0", "success", 5000),
      insert.bind("run_bulk0001", "bulk-1", "running", 1),
      insert.bind("run_bulk0002", "bulk-2", "success", 5000),
      insert.bind("run_bulk0003", "bulk-0", "needs_review", 5000),
    ]);
    await env.DB.prepare("DELETE FROM runs WHERE id IN ('run_bulk0004', 'run_bulk0005', 'run_bulk0006')").run();
    await env.DB.prepare("UPDATE runs SET workflow_id = 'bulk-9' WHERE id = 'run_bulk0007'").run();

    const db = database(env.DB);
    for (const workflowId of ["bulk-0", "bulk-1", "bulk-2", "bulk-9"]) {
      expect(await countRunsByStatus(db, { workflowId }), workflowId).toEqual(await countedFromRuns(workflowId));
    }
    expect(await countRunsByStatus(db, {})).toEqual(await countedFromRuns());
    expect(await countRunsByStatus(db, { status: "failed" })).toEqual(await countedFromRuns());
    const total = (await kept()).reduce((sum, row) => sum + row.count, 0);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM runs").first<{ n: number }>();
    expect(total).toBe(rows?.n);
  });

  it("are read from run_counts when the filters are only workflow and status, and from runs otherwise", async () => {
    expect(await plan({})).toMatch(/run_counts/);
    expect(await plan({ status: "failed" })).toMatch(/run_counts/);
    expect(await plan({ workflowId: "bulk-0", status: "failed" })).toBe(
      "SEARCH run_counts USING INDEX sqlite_autoindex_run_counts_1 (workflow_id=?)",
    );
    // Filters the kept counts cannot answer count the matching runs through an index.
    expect(await plan({ errorCode: "node.timeout" })).toMatch(
      /^SEARCH runs USING (COVERING )?INDEX runs_error_created/,
    );
    expect(await plan({ parentRunId: "run_x" })).toMatch(/^SEARCH runs USING INDEX runs_parent/);
  });
});
