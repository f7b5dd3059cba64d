import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { SubscriberResult } from "../../src/triggers/fan-out";
import { triggerQueues } from "../../src/triggers/queue";
import { api, register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, deliver, runIdsOf } from "./trigger-support";

interface PublishBody {
  eventId: string;
  name: string;
  runs: SubscriberResult[];
}

async function publish(event: unknown): Promise<{ status: number; body: PublishBody }> {
  const response = await api("/api/events", { method: "POST", json: event });
  return { status: response.status, body: (await response.json()) as PublishBody };
}

function byWorkflow(runs: SubscriberResult[]): Record<string, SubscriberResult> {
  return Object.fromEntries(runs.map((run) => [run.workflowId, run]));
}

function runIdOf(result: SubscriberResult | undefined): string {
  if (!result || !("runId" in result)) throw new Error(`no run in ${JSON.stringify(result)}`);
  return result.runId;
}

describe("event triggers", () => {
  it("fans one event in to every subscribed workflow whose filter passes", async () => {
    await register(definition("ev-all-orders", [{ type: "event", name: "order.created" }]));
    await register(definition("ev-big-orders", [{ type: "event", name: "order.created", filter: "body.total > 100" }]));
    await register(definition("ev-shipped", [{ type: "event", name: "order.shipped" }]));

    const big = await publish({ name: "order.created", id: "evt-1", payload: { total: 150 }, source: "shop" });
    expect(big.status).toBe(202);
    expect(big.body).toMatchObject({ eventId: "evt-1", name: "order.created" });
    const first = byWorkflow(big.body.runs);
    expect(Object.keys(first).sort()).toEqual(["ev-all-orders", "ev-big-orders"]);
    expect(first["ev-all-orders"]).toMatchObject({ status: "queued", version: 1 });
    expect(first["ev-big-orders"]).toMatchObject({ status: "queued" });

    const report = await settle(runIdOf(first["ev-big-orders"]));
    expect(report.status).toBe("success");
    expect(report.input).toEqual({ total: 150 });
    expect(report.trigger).toMatchObject({ type: "event", id: "evt-1", event: "order.created", source: "shop" });

    const small = byWorkflow((await publish({ name: "order.created", id: "evt-2", payload: { total: 5 } })).body.runs);
    expect(small["ev-all-orders"]).toMatchObject({ status: "queued" });
    expect(small["ev-big-orders"]).toEqual({ workflowId: "ev-big-orders", status: "filtered" });
    await settle(runIdOf(small["ev-all-orders"]));
    expect(await runIdsOf("ev-shipped")).toEqual([]);
  });

  it("starts no second run for the same event id", async () => {
    await register(definition("ev-dedup", [{ type: "event", name: "invoice.paid" }]));
    const first = (await publish({ name: "invoice.paid", id: "inv-7", payload: { n: 1 } })).body.runs[0];
    const again = (await publish({ name: "invoice.paid", id: "inv-7", payload: { n: 2 } })).body.runs[0];
    expect(first).toMatchObject({ status: "queued" });
    expect(again).toEqual({ ...first, status: "duplicate" });
    await settle(runIdOf(first));
    expect(await runIdsOf("ev-dedup")).toEqual([runIdOf(first)]);
    // Without an id every publish is a new event.
    const fresh = (await publish({ name: "invoice.paid", payload: { n: 3 } })).body;
    expect(fresh.eventId).toMatch(/^evt_/);
    expect(fresh.runs[0]).toMatchObject({ status: "queued" });
  });

  it("maps the event into the run's input and checks it against the trigger's schema", async () => {
    await register(
      definition("ev-mapped", [
        {
          type: "event",
          name: "user.signup",
          input: "{ 'email': body.user.email, 'via': event.source }",
          schema: { type: "object", required: ["email"], properties: { email: { type: "string" } } },
        },
      ]),
    );
    const good = (
      await publish({ name: "user.signup", id: "u-1", payload: { user: { email: "a@b.c" } }, source: "web" })
    ).body.runs[0];
    expect((await settle(runIdOf(good))).input).toEqual({ email: "a@b.c", via: "web" });

    const bad = (await publish({ name: "user.signup", id: "u-2", payload: { user: {} } })).body.runs[0];
    expect(bad).toMatchObject({
      workflowId: "ev-mapped",
      status: "rejected",
      error: { code: "run.input_invalid", details: { errors: [expect.objectContaining({ path: "/" })] } },
    });
    expect(await runIdsOf("ev-mapped")).toEqual([runIdOf(good)]);
  });

  it("reports a subscriber that rejects the event and still runs the others", async () => {
    await register(definition("ev-disabled", [{ type: "event", name: "report.ready" }]));
    await register(definition("ev-failing-filter", [{ type: "event", name: "report.ready", filter: "$error('no')" }]));
    await register(definition("ev-enabled", [{ type: "event", name: "report.ready" }]));
    await api("/api/workflows/ev-disabled/disable", { method: "POST" });
    const runs = byWorkflow((await publish({ name: "report.ready", id: "r-1" })).body.runs);
    expect(runs["ev-disabled"]).toMatchObject({ status: "rejected", error: { code: "workflow.disabled" } });
    expect(runs["ev-failing-filter"]).toMatchObject({ status: "rejected", error: { code: "trigger.filter_failed" } });
    expect(runs["ev-enabled"]).toMatchObject({ status: "queued" });
  });

  it("stops delivering to a workflow when a new version drops the subscription", async () => {
    await register(definition("ev-unsubscribed", [{ type: "event", name: "cache.flush" }]));
    await register(definition("ev-unsubscribed", [{ type: "event", name: "cache.warm" }]));
    expect((await publish({ name: "cache.flush", id: "c-1" })).body.runs).toEqual([]);
    expect((await publish({ name: "cache.warm", id: "c-2" })).body.runs).toEqual([
      expect.objectContaining({ workflowId: "ev-unsubscribed", status: "queued", version: 2 }),
    ]);
  });

  it("rejects malformed events with 400 and starts nothing", async () => {
    await register(definition("ev-bad-input", [{ type: "event", name: "bad.input" }]));
    for (const event of [
      {},
      { name: "" },
      { name: "has spaces" },
      { name: "bad.input", id: 42 },
      { name: "bad.input", extra: true },
      ["bad.input"],
    ]) {
      await expectError(await api("/api/events", { method: "POST", json: event }), 400, "event.invalid");
    }
    await expectError(
      await api("/api/events", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "request.invalid_json",
    );
    await expectError(
      await api("/api/events", {
        method: "POST",
        json: { name: "bad.input" },
        headers: { authorization: "Bearer nope" },
      }),
      401,
      "auth.invalid_token",
    );
    expect(await runIdsOf("ev-bad-input")).toEqual([]);
  });

  describe("from the events queue", () => {
    it("starts runs from queue messages and acks them; a redelivery starts nothing new", async () => {
      await register(definition("ev-queue", [{ type: "event", name: "queue.order" }]));
      const message = { id: "m-1", body: { name: "queue.order", id: "q-evt-1", payload: { sku: "A" } } };
      const result = await deliver(triggerQueues.events, [message]);
      expect(result.explicitAcks).toEqual(["m-1"]);
      expect(result.retryMessages).toEqual([]);
      const [runId] = await vi.waitFor(
        async () => {
          const ids = await runIdsOf("ev-queue");
          if (ids.length === 0) throw new Error("no run yet");
          return ids;
        },
        { timeout: 10_000, interval: 50 },
      );
      expect((await settle(runId as string)).input).toEqual({ sku: "A" });

      const redelivered = await deliver(triggerQueues.events, [{ ...message, attempts: 2 }]);
      expect(redelivered.explicitAcks).toEqual(["m-1"]);
      await settle(runId as string);
      expect(await runIdsOf("ev-queue")).toEqual([runId]);
    });

    it("uses the message id when the event has none, so redeliveries dedup", async () => {
      await register(definition("ev-queue-noid", [{ type: "event", name: "queue.noid" }]));
      const message = { id: "m-noid", body: JSON.stringify({ name: "queue.noid", payload: 1 }) };
      await deliver(triggerQueues.events, [message]);
      await deliver(triggerQueues.events, [message]);
      const ids = await vi.waitFor(
        async () => {
          const found = await runIdsOf("ev-queue-noid");
          if (found.length === 0) throw new Error("no run yet");
          return found;
        },
        { timeout: 10_000, interval: 50 },
      );
      const report = await settle(ids[0] as string);
      expect(report.trigger).toMatchObject({ id: "msg_m-noid" });
      expect(await runIdsOf("ev-queue-noid")).toHaveLength(1);
    });

    it("drops a malformed message instead of retrying it", async () => {
      const result = await deliver(triggerQueues.events, [
        { id: "m-bad", body: { nope: true } },
        { id: "m-text", body: "not json" },
      ]);
      expect(result.explicitAcks.sort()).toEqual(["m-bad", "m-text"]);
      expect(result.retryMessages).toEqual([]);
    });

    it("receives what a producer sends through the queue binding", async () => {
      await register(definition("ev-producer", [{ type: "event", name: "producer.ping" }]));
      await env.EVENTS_QUEUE.send({ name: "producer.ping", id: "p-1", payload: { ok: true } });
      const ids = await vi.waitFor(
        async () => {
          const found = await runIdsOf("ev-producer");
          if (found.length === 0) throw new Error("no run yet");
          return found;
        },
        { timeout: 10_000, interval: 50 },
      );
      expect((await settle(ids[0] as string)).input).toEqual({ ok: true });
    });
  });
});
