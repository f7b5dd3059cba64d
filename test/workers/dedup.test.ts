import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sortableId } from "../../src/lib/ids";
import type { RunObject } from "../../src/run/run-object";
import { isolateSpares } from "../../src/triggers/spare-runs";
import { runStub } from "../../src/triggers/start-run";
import { api, register, settle } from "./helpers";
import { countRuns, expectError, runObject } from "./support";
import { definition } from "./trigger-support";

interface StartBody {
  runId: string;
  status: "queued" | "duplicate";
}

function hooked(id: string, triggers: unknown[] = [{ type: "webhook", dedup: { window: "1h" } }]) {
  return definition(id, triggers);
}

async function hook(workflowId: string, body: string, headers: Record<string, string> = {}) {
  const response = await SELF.fetch(`http://signalbox.test/hooks/${workflowId}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as StartBody };
}

async function manual(workflowId: string, json: unknown) {
  const response = await api(`/api/workflows/${workflowId}/runs`, { method: "POST", json });
  return { status: response.status, body: (await response.json()) as StartBody };
}

describe("webhook dedup", () => {
  it("answers the same payload twice with queued then duplicate of the same run", async () => {
    await register(hooked("dedup-same"));
    const first = await hook("dedup-same", JSON.stringify({ ticket: 1 }));
    const second = await hook("dedup-same", JSON.stringify({ ticket: 1 }));
    expect(first).toMatchObject({ status: 202, body: { status: "queued" } });
    expect(second).toMatchObject({ status: 200, body: { status: "duplicate", runId: first.body.runId } });
    await settle(first.body.runId);
    expect(await countRuns("dedup-same")).toBe(1);
  });

  it("starts a new run for a different payload", async () => {
    await register(hooked("dedup-different"));
    const first = await hook("dedup-different", JSON.stringify({ ticket: 1 }));
    const second = await hook("dedup-different", JSON.stringify({ ticket: 2 }));
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.runId).not.toBe(first.body.runId);
  });

  it("treats payloads that differ only in key order as duplicates", async () => {
    await register(hooked("dedup-canonical"));
    const first = await hook("dedup-canonical", '{"a":1,"b":{"x":true,"y":[1,2]}}');
    const second = await hook("dedup-canonical", '{"b":{"y":[1,2],"x":true},"a":1}');
    expect(first.body.status).toBe("queued");
    expect(second).toMatchObject({ status: 200, body: { status: "duplicate", runId: first.body.runId } });
  });

  it("dedups different payloads that carry the same Idempotency-Key", async () => {
    await register(hooked("dedup-header"));
    const first = await hook("dedup-header", JSON.stringify({ attempt: 1 }), { "idempotency-key": "order-42" });
    const second = await hook("dedup-header", JSON.stringify({ attempt: 2 }), { "idempotency-key": "order-42" });
    const other = await hook("dedup-header", JSON.stringify({ attempt: 1 }), { "idempotency-key": "order-43" });
    expect(first.body.status).toBe("queued");
    expect(second).toMatchObject({ status: 200, body: { status: "duplicate", runId: first.body.runId } });
    expect(other).toMatchObject({ status: 202, body: { status: "queued" } });
    expect(other.body.runId).not.toBe(first.body.runId);
    const report = await settle(first.body.runId);
    expect(report.input).toEqual({ attempt: 1 });
  });

  it("lets exactly one of five concurrent identical requests start a run", async () => {
    await register(hooked("dedup-race"));
    const body = JSON.stringify({ burst: "same" });
    const results = await Promise.all(Array.from({ length: 5 }, () => hook("dedup-race", body)));
    const queued = results.filter((result) => result.body.status === "queued");
    expect(queued).toHaveLength(1);
    expect(queued[0]?.status).toBe(202);
    expect(results.filter((result) => result.status === 200)).toHaveLength(4);
    const runIds = new Set(results.map((result) => result.body.runId));
    expect(runIds.size).toBe(1);
    const [runId] = runIds;
    expect((await settle(runId as string)).status).toBe("success");
    expect(await countRuns("dedup-race")).toBe(1);
  });
});

describe("manual run dedup", () => {
  it("dedups manual runs that share an idempotencyKey", async () => {
    await register(hooked("dedup-manual", [{ type: "manual" }]));
    const first = await manual("dedup-manual", { input: { n: 1 }, idempotencyKey: "k-1" });
    const second = await manual("dedup-manual", { input: { n: 2 }, idempotencyKey: "k-1" });
    expect(first).toMatchObject({ status: 202, body: { status: "queued" } });
    expect(second).toMatchObject({ status: 200, body: { status: "duplicate", runId: first.body.runId } });
    await settle(first.body.runId);
    expect(await countRuns("dedup-manual")).toBe(1);
  });

  it("starts a run per request when no key is given, even for the same input", async () => {
    await register(hooked("dedup-manual-nokey", [{ type: "manual" }]));
    const first = await manual("dedup-manual-nokey", { input: { n: 1 } });
    const second = await manual("dedup-manual-nokey", { input: { n: 1 } });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect([first.body.status, second.body.status]).toEqual(["queued", "queued"]);
    expect(second.body.runId).not.toBe(first.body.runId);
    await Promise.all([settle(first.body.runId), settle(second.body.runId)]);
    expect(await countRuns("dedup-manual-nokey")).toBe(2);
  });

  it("rejects an idempotencyKey that is not a non-empty string", async () => {
    await register(hooked("dedup-manual-badkey", [{ type: "manual" }]));
    for (const idempotencyKey of ["", 42, "k".repeat(201)]) {
      const response = await api("/api/workflows/dedup-manual-badkey/runs", {
        method: "POST",
        json: { input: {}, idempotencyKey },
      });
      const body = (await response.json()) as { error: { code: string } };
      expect([response.status, body.error.code]).toEqual([400, "request.invalid"]);
    }
    expect(await countRuns("dedup-manual-badkey")).toBe(0);
  });
});

describe("a run whose object cannot be started", () => {
  /**
   * The isolate's next spare, spoiled: its database already holds a run's setup row, so writing
   * the new run into it fails and the object's `start` throws, as an object the runtime cannot
   * create or reach would.
   */
  async function brokenSpare() {
    const spare = { runId: sortableId("run"), mintedAt: Date.now() };
    await runStub(env, spare.runId).prepare({ expiresAt: Date.now() + 90_000 });
    await runInDurableObject(runObject(spare.runId), async (_instance: RunObject, state) => {
      state.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('setup', '{}')");
    });
    isolateSpares.take(Date.now(), 30_000);
    isolateSpares.giveBack(spare);
    return spare;
  }

  async function claimedKeys(workflowId: string) {
    const rows = await env.DB.prepare("SELECT key, run_id FROM dedup_keys WHERE workflow_id = ?")
      .bind(workflowId)
      .all<{ key: string; run_id: string }>();
    return rows.results;
  }

  it("answers 503 run.start_failed with Retry-After and gives the key back; the retry starts the run", async () => {
    await register(hooked("dedup-start-fails"));
    const spare = await brokenSpare();
    const body = JSON.stringify({ order: 7 });
    const headers = { "content-type": "application/json", "idempotency-key": "order-7" };
    const send = () => SELF.fetch("http://signalbox.test/hooks/dedup-start-fails", { method: "POST", headers, body });

    const failed = await send();
    expect(failed.headers.get("retry-after")).toBe("1");
    await expectError(failed, 503, "run.start_failed");
    expect(await claimedKeys("dedup-start-fails")).toEqual([]);
    expect(await countRuns("dedup-start-fails")).toBe(0);
    // The object whose storage refused the run does not hold it in memory either.
    expect(await runStub(env, spare.runId).report()).toBeNull();

    const retried = await send();
    expect(retried.status).toBe(202);
    const started = (await retried.json()) as StartBody;
    expect(started.status).toBe("queued");
    expect(started.runId).not.toBe(spare.runId);
    expect((await settle(started.runId)).status).toBe("success");
    expect(await claimedKeys("dedup-start-fails")).toEqual([{ key: "webhook:order-7", run_id: started.runId }]);

    const again = await hook("dedup-start-fails", body, { "idempotency-key": "order-7" });
    expect(again).toMatchObject({ status: 200, body: { status: "duplicate", runId: started.runId } });
    expect(await countRuns("dedup-start-fails")).toBe(1);
  });

  it("a manual run's idempotencyKey is given back the same way", async () => {
    await register(hooked("dedup-start-fails-manual", [{ type: "manual" }]));
    await brokenSpare();
    const json = { input: { n: 1 }, idempotencyKey: "manual-1" };
    const failed = await api("/api/workflows/dedup-start-fails-manual/runs", { method: "POST", json });
    await expectError(failed, 503, "run.start_failed");
    const retried = await manual("dedup-start-fails-manual", json);
    expect(retried).toMatchObject({ status: 202, body: { status: "queued" } });
    expect((await settle(retried.body.runId)).status).toBe("success");
    expect(await countRuns("dedup-start-fails-manual")).toBe(1);
  });
});
