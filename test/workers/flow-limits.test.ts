import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gateStub } from "../../src/flow/gate-stub";
import { gate, gated, reportOf, sendGo, start, trigger } from "./flow-support";
import { api, register } from "./helpers";

const t0 = Date.UTC(2030, 0, 1);

describe("flow: throttle", () => {
  it("spaces starts one emission apart and queues the rest, never dropping one", async () => {
    const { workflowId } = await register(
      gated("throttled", { throttle: { limit: 2, period: "1m" } }, [
        { id: "note", type: "log", config: { message: "started" } },
      ]),
    );
    const bucket = gate(workflowId, "throttle", "_");
    await bucket.setClock(t0);
    const runs = [
      await start(workflowId, { n: 1 }),
      await start(workflowId, { n: 2 }),
      await start(workflowId, { n: 3 }),
    ];
    expect((await reportOf(runs[0] as string)).status).toBe("success");
    const second = await reportOf(runs[1] as string);
    expect(second.status).toBe("queued");
    expect(second.flow?.waitingFor).toEqual({ kind: "throttle", key: "_", running: 0, limit: 2, position: 1 });
    expect((await reportOf(runs[2] as string)).flow?.waitingFor?.position).toBe(2);

    // 30s per start (2 a minute): nothing goes a moment early.
    await bucket.setClock(t0 + 29_999);
    await bucket.alarm();
    expect((await reportOf(runs[1] as string)).status).toBe("queued");
    await bucket.setClock(t0 + 30_000);
    await bucket.alarm();
    expect((await reportOf(runs[1] as string)).status).toBe("success");
    expect((await reportOf(runs[2] as string)).status).toBe("queued");
    await bucket.setClock(t0 + 60_000);
    await bucket.alarm();
    expect((await reportOf(runs[2] as string)).status).toBe("success");
    expect(await bucket.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });

  it("a throttled start whose run never hears of it is sent again, and dropped for a run that is gone", async () => {
    const { workflowId } = await register(
      gated("throttle-lease", { throttle: { limit: 1, period: "1m" } }, [
        { id: "note", type: "log", config: { message: "started" } },
      ]),
    );
    const bucket = gate(workflowId, "throttle", "_");
    await bucket.setClock(t0);
    expect((await reportOf(await start(workflowId, {}))).status).toBe("success");
    // A trigger that queued at the throttle and was cut short before creating its run.
    const ghost = "run_01ghostghostghostghostthrot";
    const config = { kind: "throttle" as const, limit: 1, periodMs: 60_000, burst: 1 };
    expect((await bucket.stub.acquire(bucket.name, { runId: ghost, priority: 0, config })).granted).toBe(false);
    await bucket.setClock(t0 + 60_000);
    await bucket.alarm();
    // Its start was taken and its delivery is leased until someone answers for it.
    expect(await bucket.stub.snapshot()).toMatchObject({ running: [ghost], waiting: [] });
    await bucket.setClock(t0 + 120_000);
    await bucket.alarm();
    expect(await bucket.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });
});

describe("flow: rateLimit", () => {
  it("answers rate_limited over the limit, starts nothing, counts it, and limits each key on its own", async () => {
    const { workflowId } = await register(
      gated("limited", { rateLimit: { limit: 2, period: "1h", key: "input.customer" } }, [
        { id: "note", type: "log", config: { message: "started" } },
      ]),
    );
    await gate(workflowId, "rateLimit", "a").setClock(t0);
    const answers = [];
    for (let n = 0; n < 3; n += 1) answers.push(await trigger(workflowId, { customer: "a", n }));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 200]);
    expect(answers[2]?.body).toEqual({ status: "rate_limited", version: 1 });
    const other = await trigger(workflowId, { customer: "b" });
    expect(other.status).toBe(202);
    await reportOf(other.body.runId as string);

    const started = [answers[0], answers[1]].map((answer) => answer?.body.runId as string);
    for (const runId of started) expect((await reportOf(runId)).status).toBe("success");
    const listed = (await (await api(`/api/runs?workflow=${workflowId}`)).json()) as {
      runs: { runId: string }[];
    };
    expect(listed.runs).toHaveLength(3);
    expect(listed.runs.map((run) => run.runId).filter((runId) => started.includes(runId))).toHaveLength(2);
    const metrics = (await (await api(`/api/metrics?workflow=${workflowId}`)).json()) as {
      flow: { rateLimited: number };
    };
    expect(metrics.flow).toEqual({ rateLimited: 1 });

    // The bucket refills: one more an hour / 2 later.
    await gate(workflowId, "rateLimit", "a").setClock(t0 + 1_800_000);
    expect((await trigger(workflowId, { customer: "a" })).status).toBe(202);
  });
});

describe("flow: priority", () => {
  it("starts the highest priority among queued runs first, equal ones in arrival order", async () => {
    const { workflowId } = await register(
      gated("ranked", { concurrency: [{ limit: 1, holdWhileWaiting: true }], priority: "input.rank" }),
    );
    const holder = await start(workflowId, { rank: 0 });
    const low = await start(workflowId, { rank: 1 });
    const high = await start(workflowId, { rank: 5 });
    const highToo = await start(workflowId, { rank: 5 });
    expect((await reportOf(high)).flow?.waitingFor?.position).toBe(1);
    expect((await reportOf(low)).flow?.waitingFor?.position).toBe(3);
    const order: string[] = [];
    let current = holder;
    for (const _ of [low, high, highToo]) {
      await sendGo(current);
      const snapshot = await gate(workflowId, "concurrency.0", "_").stub.snapshot();
      current = snapshot.running[0] as string;
      expect((await reportOf(current)).status).toBe("waiting");
      order.push(current);
    }
    expect(order).toEqual([high, highToo, low]);
  });
});

describe("flow: leases and versions", () => {
  it("a slot held by a run that never came to be goes back when its lease runs out", async () => {
    const { workflowId } = await register(gated("leased", { concurrency: [{ limit: 1, holdWhileWaiting: true }] }));
    const slots = gate(workflowId, "concurrency.0", "_");
    await slots.setClock(t0);
    // A trigger that took a slot and was cut short before creating its run.
    const ghost = "run_01ghostghostghostghostghost";
    expect(
      await slots.stub.acquire(slots.name, { runId: ghost, priority: 0, config: { kind: "concurrency", limit: 1 } }),
    ).toEqual({
      granted: true,
    });
    const waiting = await start(workflowId, {});
    expect((await reportOf(waiting)).status).toBe("queued");
    await slots.setClock(t0 + 59_000);
    await slots.alarm();
    expect((await reportOf(waiting)).status).toBe("queued");
    await slots.setClock(t0 + 60_000);
    await slots.alarm();
    expect((await reportOf(waiting)).status).toBe("waiting");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [waiting], waiting: [] });
    // A live run's lease is renewed, not taken away.
    await slots.setClock(t0 + 200_000);
    await slots.alarm();
    expect(await slots.stub.snapshot()).toMatchObject({ running: [waiting] });
  });

  it("a new version's limit applies from the next trigger on; queued runs keep their place", async () => {
    const { workflowId } = await register(gated("versioned", { concurrency: [{ limit: 1, holdWhileWaiting: true }] }));
    const first = await start(workflowId, {});
    const queued = await start(workflowId, {});
    expect((await reportOf(queued)).status).toBe("queued");
    await register(gated("versioned", { concurrency: [{ limit: 3, holdWhileWaiting: true }] }));
    const later = await start(workflowId, {});
    expect((await reportOf(queued)).status).toBe("waiting");
    expect((await reportOf(later)).status).toBe("waiting");
    expect((await reportOf(first)).status).toBe("waiting");
    const snapshot = await gateStub(env, gate(workflowId, "concurrency.0", "_").name).snapshot();
    expect(snapshot.running).toEqual([first, queued, later]);
  });
});

describe("flow: singleton", () => {
  it("skip: a trigger while a run of its key is active starts nothing and names the active run", async () => {
    const { workflowId } = await register(gated("single-skip", { singleton: { key: "input.doc", mode: "skip" } }));
    const first = await start(workflowId, { doc: "a" });
    const skipped = await trigger(workflowId, { doc: "a" });
    expect(skipped).toEqual({ status: 200, body: { status: "skipped", runId: first, version: 1 } });
    const other = await start(workflowId, { doc: "b" });
    expect((await reportOf(other)).status).toBe("waiting");
    await sendGo(first);
    expect((await reportOf(first)).status).toBe("success");
    // The key is free again once its run ended.
    const next = await start(workflowId, { doc: "a" });
    expect((await reportOf(next)).status).toBe("waiting");
  });

  it("cancel: a new trigger cancels the active run of its key and starts", async () => {
    const { workflowId } = await register(gated("single-cancel", { singleton: { mode: "cancel" } }));
    const first = await start(workflowId, { n: 1 });
    expect((await reportOf(first)).status).toBe("waiting");
    const second = await start(workflowId, { n: 2 });
    const replaced = await reportOf(first);
    expect(replaced.status).toBe("cancelled");
    expect(JSON.stringify(replaced.error)).toContain("flow.singleton");
    expect((await reportOf(second)).status).toBe("waiting");
    expect(await gate(workflowId, "singleton", "_").stub.snapshot()).toMatchObject({ running: [second] });
  });
});
