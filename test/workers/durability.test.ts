import {
  abortAllDurableObjects,
  createExecutionContext,
  createScheduledController,
  evictDurableObject,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { RunObject } from "../../src/run/run-object";
import type { OutboxEntry } from "../../src/run/run-storage";
import { writeCheckpoints } from "../../src/store/checkpoints";
import { register, settle, startManual } from "./helpers";
import { fireAlarm, runObject, testServer } from "./support";

function callThenNap(id: string, url: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "call", type: "http", config: { method: "POST", url, body: "{ 'run': run.id }", output: "called" } },
      { id: "nap", type: "wait", config: { duration: "2h" } },
      { id: "done", type: "transform", config: { set: { done: "called.status = 200" } } },
    ],
    edges: [
      { from: "call", to: "nap" },
      { from: "nap", to: "done" },
    ],
  };
}

describe("a run survives losing its object", () => {
  it("finishes after eviction mid-sleep without repeating the http step", async () => {
    const path = "/durability/evicted";
    await register(callThenNap("durable-evict", `${testServer.url}${path}`));
    const runId = await startManual("durable-evict");
    expect((await settle(runId)).status).toBe("waiting");

    await evictDurableObject(runObject(runId));
    expect(await fireAlarm(runId)).toBe(true);

    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.done).toBe(true);
    expect(report.steps.map((step) => [step.nodeId, step.status, step.attempts])).toEqual([
      ["call", "success", 1],
      ["nap", "success", 1],
      ["done", "success", 1],
    ]);
    expect(await testServer.requests(path)).toHaveLength(1);
  });

  it("re-runs an attempt cut short by an abort with the same idempotency key", async () => {
    await register(callThenNap("durable-abort", `${testServer.url}/delay/300`));
    const runId = await startManual("durable-abort");
    await abortAllDurableObjects();
    // The watch timer is what brings a run with work in flight back after a crash.
    expect(await fireAlarm(runId)).toBe(true);

    const report = await settle(runId);
    expect(report.status).toBe("waiting");
    expect(report.steps[0]).toMatchObject({ nodeId: "call", status: "success", attempts: 1 });
    const keys = (await testServer.requests("/delay/300"))
      .map((request) => request.headers["idempotency-key"])
      .filter((key) => typeof key === "string" && key.startsWith(runId));
    // Whether the first request left before the abort is a race; every request is attempt 1.
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(keys)).toEqual(new Set([`${runId}:call:1`]));
    const stored = await runInDurableObject(runObject(runId), async (_instance: RunObject, state) =>
      JSON.parse(
        state.storage.sql.exec<{ state: string }>("SELECT state FROM steps WHERE node_id = 'call'").one().state,
      ),
    );
    expect(stored).toMatchObject({ status: "success", attempts: 1, interruptions: 1 });
  });
});

describe("D1 checkpoints", () => {
  it("mirror the run's report once settled", async () => {
    await register(callThenNap("durable-checkpoints", `${testServer.url}/durability/checkpoints`));
    const runId = await startManual("durable-checkpoints");
    await settle(runId);
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");

    const run = await env.DB.prepare("SELECT status, version, ended_at FROM runs WHERE id = ?").bind(runId).first();
    expect(run).toEqual({ status: "success", version: 1, ended_at: report.endedAt });
    const { results: steps } = await env.DB.prepare(
      "SELECT node_id, status, attempts, context_version FROM steps WHERE run_id = ? ORDER BY node_id",
    )
      .bind(runId)
      .all();
    const expected = report.steps
      .map((step) => ({
        node_id: step.nodeId,
        status: step.status,
        attempts: step.attempts,
        context_version: step.contextVersion,
      }))
      .sort((a, b) => a.node_id.localeCompare(b.node_id));
    expect(steps).toEqual(expected);
    const versions = await env.DB.prepare("SELECT COUNT(*) AS count FROM context_versions WHERE run_id = ?")
      .bind(runId)
      .first<{ count: number }>();
    expect(versions?.count).toBe(report.contextVersion + 1);
  });

  it("replaying a checkpoint batch, or an older one, changes nothing", async () => {
    await register({
      id: "durable-replay",
      name: "replay",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "only", type: "transform", config: { set: { x: "1" } } }],
    });
    const runId = await startManual("durable-replay");
    const report = await settle(runId);
    const snapshot = async () =>
      Promise.all(
        ["runs WHERE id = ?", "steps WHERE run_id = ?", "context_versions WHERE run_id = ?"].map(
          async (from) => (await env.DB.prepare(`SELECT * FROM ${from}`).bind(runId).all()).results,
        ),
      );
    const before = await snapshot();
    const entries = await runInDurableObject(runObject(runId), async (_instance: RunObject, state) => {
      const sql = state.storage.sql;
      const header = JSON.parse(sql.exec<{ state: string }>("SELECT state FROM run").one().state);
      const step = JSON.parse(sql.exec<{ state: string }>("SELECT state FROM steps").one().state);
      return { header, step };
    });
    const stale = { ...entries.step, status: "running", attempts: 0 };
    const batch: OutboxEntry[] = [
      { kind: "run", state: entries.header, triggerType: "manual" },
      { kind: "step", runId, step: entries.step, updatedAt: report.updatedAt },
      { kind: "step", runId, step: stale, updatedAt: report.updatedAt - 1 },
      { kind: "context", runId, version: 1, nodeId: "only", patch: { x: 999 }, createdAt: 0 },
    ];
    await writeCheckpoints(env.DB, batch);
    await writeCheckpoints(env.DB, batch);
    expect(await snapshot()).toEqual(before);
  });
});

describe("the scheduled watchdog", () => {
  it("brings back a run whose alarm went missing and drops expired dedup keys", async () => {
    await register(callThenNap("durable-watchdog", `${testServer.url}/durability/watchdog`));
    const runId = await startManual("durable-watchdog");
    expect((await settle(runId)).status).toBe("waiting");
    // Lose the alarm of a run whose wake time has passed. The instance stays up, so nothing
    // but a poke makes it look at its timers again.
    await runInDurableObject(runObject(runId), async (_instance: RunObject, state) => {
      state.storage.sql.exec("UPDATE timers SET at = at - 3 * 3600 * 1000");
      await state.storage.deleteAlarm();
    });
    expect((await settle(runId)).status).toBe("waiting");
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO dedup_keys VALUES ('durable-watchdog', 'old', 'run_x', ?)").bind(now + 60_000),
      env.DB.prepare("INSERT INTO dedup_keys VALUES ('durable-watchdog', 'new', 'run_y', ?)").bind(now + 86_400_000),
    ]);

    // Ten minutes on, the run's last checkpoint is stale and the first key has expired.
    const controller = createScheduledController({ scheduledTime: now + 10 * 60_000, cron: "* * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);

    const { results } = await env.DB.prepare("SELECT key FROM dedup_keys WHERE workflow_id = 'durable-watchdog'").all();
    expect(results).toEqual([{ key: "new" }]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.steps.map((step) => [step.status, step.attempts])).toEqual([
      ["success", 1],
      ["success", 1],
      ["success", 1],
    ]);
  });
});
