import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { maxInterruptions } from "../../src/engine/lease";
import type { RunObject } from "../../src/run/run-object";
import { resendsBeforeInline, type StepMessage } from "../../src/run/step-dispatch";
import { settle } from "./helpers";
import {
  deliverSteps,
  leasesOf,
  pair,
  runClaimed,
  spyQueue,
  startWithQueue,
  stepRun,
  storedStep,
} from "./steps-support";
import { fireAlarm, runObject, testServer } from "./support";
import { deliver } from "./trigger-support";

/** The run's report, read without waiting for it to settle (it has attempts out on the queue). */
async function statusOf(runId: string): Promise<string | undefined> {
  return runInDurableObject(runObject(runId), async (instance: RunObject) => (await instance.report())?.status);
}

describe("lost step messages are sent again without spending the attempt", () => {
  it(`lost messages never fail the run nor spend its attempts (${resendsBeforeInline} losses here)`, async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("lost-often", testServer.url), {}, queue);
    const sendings = () => sent.messages.map((message) => `${message.nodeId}${message.dispatch}`);
    expect(sendings()).toEqual(["a0", "b0"]);

    // Every message is lost: no consumer ever takes it before its lease runs out.
    const losses = resendsBeforeInline - 1;
    expect(losses).toBeGreaterThan(maxInterruptions);
    for (let index = 0; index < losses; index++) {
      expect(await fireAlarm(runId)).toBe(true);
      expect(await statusOf(runId), `loss ${index + 1}`).toBe("running");
      for (const nodeId of ["a", "b"]) {
        expect(await storedStep(runId, nodeId)).toMatchObject({
          status: "running",
          attempts: 1,
          interruptions: 0,
          resends: index + 1,
        });
      }
    }
    expect(sendings()).toEqual(["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]);

    // One loss more: the queue is not reaching a consumer, so the run executes both attempts
    // itself, still as attempt 1.
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.both).toEqual([200, 200]);
    expect(sent.messages).toHaveLength(10);
    for (const nodeId of ["a", "b"]) {
      expect(await storedStep(runId, nodeId)).toMatchObject({ status: "success", attempts: 1, interruptions: 0 });
      const requests = await testServer.requests(`/lost-often/${nodeId}`);
      expect(requests.map((request) => request.headers["idempotency-key"])).toEqual([`${runId}:${nodeId}:1`]);
    }
    expect(await leasesOf(runId)).toEqual([]);
  });

  it("a restart sends again what no consumer claimed, without counting an interruption", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("restarted", testServer.url), {}, queue);
    expect(sent.messages).toHaveLength(2);
    // The restarted object has the real steps queue, whose consumer runs in this Worker.
    await evictDurableObject(runObject(runId));
    const report = await settle(runId);
    expect(report.status).toBe("success");
    for (const nodeId of ["a", "b"]) {
      expect(await storedStep(runId, nodeId)).toMatchObject({ attempts: 1, interruptions: 0, resends: 1 });
      expect(await testServer.requests(`/restarted/${nodeId}`)).toHaveLength(1);
    }
    expect(await leasesOf(runId)).toEqual([]);
  });

  it("a claimed attempt that goes quiet is an interruption; a message nobody claimed is a resend", async () => {
    const { queue } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("quiet", testServer.url), {}, queue);
    // A consumer takes `a` and is never heard from again; `b`'s message is lost.
    expect(await stepRun(runId).claimMany([{ nodeId: "a", attempt: 1, dispatch: 0 }])).toHaveLength(1);

    // b's delivery lease (30 s) runs out first: sent again, alone, so it runs in the run.
    expect(await fireAlarm(runId)).toBe(true);
    expect(await storedStep(runId, "b")).toMatchObject({ status: "success", interruptions: 0, resends: 1 });
    expect(await storedStep(runId, "a")).toMatchObject({ status: "running", interruptions: 0 });

    // a's claimed lease (timeout + grace) runs out: that attempt really ran, so it counts.
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(await storedStep(runId, "a")).toMatchObject({ status: "success", attempts: 1, interruptions: 1 });
    expect(await leasesOf(runId)).toEqual([]);
  });
});

describe("a redelivered message never runs an attempt a consumer holds", () => {
  it("the same message delivered twice in one batch runs the attempt once", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("twice", testServer.url), {}, queue);
    const [a, b] = sent.messages as [StepMessage, StepMessage];
    const result = await deliver("signalbox-steps", [
      { id: "twice-a", body: a },
      { id: "twice-a-redelivered", body: a, attempts: 2 },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["twice-a", "twice-a-redelivered"]);
    expect(result.retryMessages).toEqual([]);
    expect(await testServer.requests("/twice/a")).toHaveLength(1);

    await deliverSteps([b]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(await storedStep(runId, "a")).toMatchObject({ status: "success", attempts: 1, interruptions: 0 });
    expect(await testServer.requests("/twice/a")).toHaveLength(1);
  });

  it("a redelivery while the holder is still at work is acked unrun; the holder's result counts", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("held", testServer.url), {}, queue);
    const [job] = await stepRun(runId).claimMany([{ nodeId: "a", attempt: 1, dispatch: 0 }]);
    const [held] = await leasesOf(runId);
    expect(held).toMatchObject({ id: "lease:a:1", claimed: true });

    const [a, b] = sent.messages as [StepMessage, StepMessage];
    const redelivered = await deliverSteps([a]);
    expect(redelivered.explicitAcks).toHaveLength(1);
    expect(redelivered.retryMessages).toEqual([]);
    expect(await testServer.requests("/held/a")).toEqual([]);
    // The refused claim leaves the holder's lease as it was.
    expect((await leasesOf(runId)).find((lease) => lease.id === "lease:a:1")).toEqual(held);

    expect(await runClaimed(runId, job)).toEqual([{ accepted: true }]);
    await deliverSteps([b]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(await testServer.requests("/held/a")).toHaveLength(1);
    expect(await leasesOf(runId)).toEqual([]);
  });
});
