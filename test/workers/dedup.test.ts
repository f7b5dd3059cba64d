import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, register, settle } from "./helpers";
import { countRuns } from "./support";
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
