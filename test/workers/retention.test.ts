import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyAudit } from "../../src/store/audit-log";
import { database } from "../../src/store/db";
import { expiredRunsQuery } from "../../src/store/run-deletion";
import { sweepRetention } from "../../src/triggers/retention";
import { runStub } from "../../src/triggers/start-run";
import { watchdog } from "../../src/triggers/watchdog";
import { settleTree } from "./children-helpers";
import { csrfOf, page, signIn } from "./dashboard-support";
import { api, register, startManual } from "./helpers";
import { expectError } from "./support";

const hour = 3_600_000;
const day = 24 * hour;

interface RunView {
  runId: string;
  status: string;
  endedAt: number;
  deleteAfter: number | null;
  heldAt: number | null;
}

async function view(runId: string): Promise<RunView> {
  const response = await api(`/api/runs/${runId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as RunView;
}

/** Starts a run and waits until it has ended and its checkpoints are in D1. */
async function ended(workflowId: string, input: unknown = {}): Promise<RunView> {
  const runId = await startManual(workflowId, input);
  await settleTree(runId);
  await runStub(env, runId).idle();
  return view(runId);
}

async function rowCount(table: string, column: string, runId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ? OR ${column} LIKE ?`)
    .bind(runId, `${runId}.%`)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("retention", () => {
  it("refuses a retention that is not a duration, with its path", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      json: {
        id: "bad-retention",
        name: "Bad",
        nodes: [{ id: "a", type: "transform", config: { set: { x: "1" } } }],
        retention: { failed: "a week" },
      },
    });
    const body = await expectError(response, 422, "definition.invalid");
    expect(JSON.stringify(body.error.details)).toContain('["retention","failed"]');
    const unknown = await api("/api/workflows", {
      method: "POST",
      json: {
        id: "bad-retention",
        name: "Bad",
        nodes: [{ id: "a", type: "transform", config: { set: { x: "1" } } }],
        retention: { paused: "1d" },
      },
    });
    await expectError(unknown, 422, "definition.invalid");
  });

  it("sets deleteAfter from the definition, else from the RETENTION_* vars, and shows it", async () => {
    await register({
      id: "kept-an-hour",
      name: "Kept an hour",
      retention: { success: "1h" },
      nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
    });
    const short = await ended("kept-an-hour");
    expect(short.status).toBe("success");
    expect(short.deleteAfter).toBe(short.endedAt + hour);

    await register({
      id: "kept-default",
      name: "Kept by default",
      retention: { success: "1h" },
      nodes: [{ id: "a", type: "transform", config: { set: { done: '$error("no")' } } }],
    });
    // The definition names only success: a failed run takes RETENTION_FAILED (90d in wrangler.toml).
    const failed = await ended("kept-default");
    expect(failed.status).toBe("failed");
    expect(failed.deleteAfter).toBe(failed.endedAt + 90 * day);

    const cookie = await signIn();
    const html = await (await page(`/ui/runs/${short.runId}`, { cookie })).text();
    expect(html).toContain("Deleted after");
    expect(html).toContain(new Date(short.deleteAfter ?? 0).toISOString().slice(0, 16).replace("T", " "));
    expect(html).toContain(`href="/ui/runs/${short.runId}/confirm/hold"`);

    // A hold from the dashboard: confirmed, then shown instead of the time, and lifted again.
    expect((await page(`/ui/runs/${short.runId}/confirm/hold`, { cookie })).status).toBe(200);
    const csrf = await csrfOf(cookie);
    const held = await page(`/ui/runs/${short.runId}/actions/hold`, { cookie, form: { csrf } });
    expect(held.status).toBe(303);
    expect(held.headers.get("location")).toBe(`/ui/runs/${short.runId}?did=hold`);
    expect((await view(short.runId)).heldAt).toBeGreaterThan(0);
    const heldPage = await (await page(`/ui/runs/${short.runId}`, { cookie })).text();
    expect(heldPage).toContain("held since");
    expect(heldPage).toContain(`href="/ui/runs/${short.runId}/confirm/release"`);
    expect((await page(`/ui/runs/${short.runId}/confirm/hold`, { cookie })).status).toBe(409);
    const lifted = await page(`/ui/runs/${short.runId}/actions/release`, { cookie, form: { csrf } });
    expect(lifted.status).toBe(303);
    expect(await view(short.runId)).toMatchObject({ heldAt: null, deleteAfter: short.deleteAfter });
  });

  it("deletes expired runs with their children, blobs and rows from the watchdog, and audits each", async () => {
    await register({
      id: "retention-tree",
      name: "Tree",
      retention: { success: "2h" },
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "input.items",
            body: {
              nodes: [
                { id: "work", type: "transform", config: { set: { big: '$pad("", 70000, "x")', value: "input" } } },
              ],
              output: "value",
            },
            output: "values",
          },
        },
      ],
    });
    const run = await ended("retention-tree", { items: [1, 2] });
    expect(run.status).toBe("success");
    for (const index of [0, 1]) await runStub(env, `${run.runId}.each.1.${index}`).idle();
    expect(await rowCount("runs", "id", run.runId)).toBe(3);
    expect((await env.BLOBS.list({ prefix: `runs/${run.runId}` })).objects).toHaveLength(2);
    // Children carry no time of their own: they go with their parent.
    const child = await env.DB.prepare("SELECT delete_after FROM runs WHERE id = ?")
      .bind(`${run.runId}.each.1.0`)
      .first<{ delete_after: number | null }>();
    expect(child?.delete_after).toBeNull();

    // An hour before its time nothing happens; after it, the watchdog deletes the tree.
    await watchdog(env, run.endedAt + hour);
    expect(await rowCount("runs", "id", run.runId)).toBe(3);
    const tick = await watchdog(env, run.endedAt + 2 * hour + 1);
    expect(tick.retention).toMatchObject({ deleted: 1, postponed: 0 });
    expect(await rowCount("runs", "id", run.runId)).toBe(0);
    expect(await rowCount("steps", "run_id", run.runId)).toBe(0);
    expect(await rowCount("context_versions", "run_id", run.runId)).toBe(0);
    expect((await env.BLOBS.list({ prefix: `runs/${run.runId}` })).objects).toHaveLength(0);
    expect(await runStub(env, run.runId).report()).toBeNull();
    await expectError(await api(`/api/runs/${run.runId}`), 404, "run.not_found");
    const audit = (await (await api(`/api/audit?run=${run.runId}&actor=retention`)).json()) as {
      entries: { action: string; status: number; actor: { kind: string } }[];
    };
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: "RETENTION delete run",
        status: 200,
        actor: expect.objectContaining({ kind: "system" }),
      }),
    ]);
  });

  it("deletes in bounded batches per tick and goes on where it stopped; a hold keeps a run", async () => {
    await register({
      id: "retention-batch",
      name: "Batch",
      retention: { success: "1m" },
      nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
    });
    const runs: RunView[] = [];
    for (let index = 0; index < 6; index++) runs.push(await ended("retention-batch"));
    const [held, ...rest] = runs;
    if (!held) throw new Error("no runs");
    const hold = await api(`/api/runs/${held.runId}/hold`, { method: "POST" });
    expect(hold.status).toBe(200);
    expect(await hold.json()).toMatchObject({ held: true, deleteAfter: null });
    expect((await view(held.runId)).heldAt).toBeGreaterThan(0);

    const later = Math.max(...runs.map((run) => run.endedAt)) + 2 * 60_000;
    const small = { ...env, RETENTION_BATCH: "2" };
    const counts: number[] = [];
    for (let tick = 0; tick < 4; tick++) counts.push((await sweepRetention(small, later)).deleted);
    expect(counts).toEqual([2, 2, 1, 0]);
    for (const run of rest) expect(await rowCount("runs", "id", run.runId)).toBe(0);
    expect(await rowCount("runs", "id", held.runId)).toBe(1);

    // Lifting the hold: its time has passed, so the next tick deletes it.
    const release = await api(`/api/runs/${held.runId}/hold`, { method: "DELETE" });
    expect(await release.json()).toMatchObject({ held: false, deleteAfter: held.deleteAfter });
    expect((await sweepRetention(small, later)).deleted).toBe(1);
    expect(await rowCount("runs", "id", held.runId)).toBe(0);
    await expectError(await api(`/api/runs/${held.runId}/hold`, { method: "POST" }), 404, "run.not_found");
  });

  it("reads due runs through the partial index", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${expiredRunsQuery}`).bind(Date.now(), 25).all<{
      detail: string;
    }>();
    const plan = results.map((row) => row.detail).join("\n");
    expect(plan).toContain("USING INDEX runs_delete_after");
    expect(plan).not.toContain("TEMP B-TREE");
  });

  it("keeps audit entries for RETENTION_AUDIT, then deletes them from the oldest end", async () => {
    for (let index = 0; index < 3; index++) await api(`/api/workflows/audit-age-${index}/disable`, { method: "POST" });
    const before = await verifyAudit(database(env.DB));
    expect(before.ok).toBe(true);
    const kept = await sweepRetention(env, Date.now() + 399 * day);
    expect(kept.auditDeleted).toBe(0);
    const swept = await sweepRetention(env, Date.now() + 401 * day);
    expect(swept.auditDeleted).toBeGreaterThan(2);
    const after = await verifyAudit(database(env.DB));
    // The newest entry stays (the next one hashes against it), and what is left still verifies.
    expect(after).toMatchObject({ ok: true, checked: 1 });
  });
});
