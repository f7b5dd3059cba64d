import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RunObject } from "../../src/run/run-object";
import type { StepRunApi } from "../../src/run/step-consumer";
import { claimGraceMs, type StepMessage } from "../../src/run/step-dispatch";
import { settle } from "./helpers";
import { llmServer, llmStep, uniqueModel } from "./llm-helpers";
import {
  deliverSteps,
  fanOut,
  leasesOf,
  pair,
  runClaimed,
  spyQueue,
  startWithQueue,
  storedStep,
} from "./steps-support";
import { fireAlarm, runObject, testServer } from "./support";

describe("parallel io steps through the steps queue", () => {
  it("runs a 100-way http fan-out through the queue and joins all 100 outputs", async () => {
    const { queue, sent } = spyQueue({ drop: false });
    const definition = fanOut("fan-100", 100, testServer.url);
    const runId = await startWithQueue(definition, {}, queue);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(sent.messages).toHaveLength(100);
    expect(sent.batches).toBe(1);
    const expected = Array.from({ length: 100 }, (_, index) => `/fan-100/call${index}`);
    expect(report.context.paths).toEqual(expected);
    const calls = report.steps.filter((step) => step.nodeId.startsWith("call"));
    expect(calls).toHaveLength(100);
    for (const step of calls) expect(step).toMatchObject({ status: "success", attempts: 1 });
    expect(report.steps.find((step) => step.nodeId === "join")).toMatchObject({ status: "success", attempts: 1 });
    const requests = (await testServer.requests()).filter((request) => request.path.startsWith("/fan-100/"));
    expect(requests).toHaveLength(100);
    expect(new Set(requests.map((request) => request.headers["idempotency-key"])).size).toBe(100);
    expect(await leasesOf(runId)).toEqual([]);
  });
});

describe("what stays inline", () => {
  it("runs a lone http node and pure nodes inside the run: no message", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const definition = {
      id: "lone-http",
      name: "lone-http",
      triggers: [{ type: "manual" }],
      nodes: [
        { id: "prep", type: "transform", config: { set: { n: "1" } } },
        { id: "call", type: "http", config: { url: `${testServer.url}/lone-http/call`, output: "called" } },
        { id: "one", type: "transform", config: { set: { one: "called.status" } } },
        { id: "two", type: "transform", config: { set: { two: "called.status" } } },
      ],
      edges: [
        { from: "prep", to: "call" },
        { from: "call", to: "one" },
        { from: "call", to: "two" },
      ],
    };
    const runId = await startWithQueue(definition, {}, queue);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ one: 200, two: 200 });
    expect(sent.messages).toEqual([]);
    expect(await leasesOf(runId)).toEqual([]);
  });
});

describe("joins under queue dispatch", () => {
  it("the join waits for a slow branch and runs once", async () => {
    const { queue, sent } = spyQueue({ drop: false });
    const runId = await startWithQueue(pair("slow-join", testServer.url, { a: "a", b: "../delay/300" }), {}, queue);
    const report = await settle(runId);
    expect(sent.messages.map((message) => message.nodeId)).toEqual(["a", "b"]);
    expect(report.status).toBe("success");
    expect(report.context.both).toEqual([200, 200]);
    const join = report.steps.find((step) => step.nodeId === "join");
    const b = report.steps.find((step) => step.nodeId === "b");
    expect(join).toMatchObject({ status: "success", attempts: 1 });
    expect(join?.startedAt ?? 0).toBeGreaterThanOrEqual(b?.endedAt ?? Number.POSITIVE_INFINITY);
  });
});

describe("delivery is at least once; results count once", () => {
  it("a redelivered message is dropped as stale and a repeated completion changes nothing", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("redeliver", testServer.url), {}, queue);
    expect(sent.messages.map((message) => [message.nodeId, message.attempt, message.dispatch])).toEqual([
      ["a", 1, 0],
      ["b", 1, 0],
    ]);
    expect((await leasesOf(runId)).map((lease) => [lease.id, lease.claimed])).toEqual([
      ["lease:a:1", false],
      ["lease:b:1", false],
    ]);
    const [a, b] = sent.messages as [StepMessage, StepMessage];

    const first = await deliverSteps([a]);
    expect(first.explicitAcks).toHaveLength(1);
    expect(first.retryMessages).toEqual([]);
    const again = await deliverSteps([a]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await testServer.requests("/redeliver/a")).toHaveLength(1);

    await deliverSteps([b]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.both).toEqual([200, 200]);
    expect(await testServer.requests("/redeliver/b")).toHaveLength(1);

    // Claiming or completing a finished attempt again: null, not accepted, nothing changes.
    const stub = runObject(runId) as unknown as StepRunApi;
    expect(await stub.claimMany([{ nodeId: "a", attempt: 1, dispatch: 0 }])).toEqual([null]);
    const late = {
      nodeId: "b",
      attempt: 1,
      outcome: { type: "success" as const, output: { b: { status: 500 } } },
      startedAt: Date.now(),
      endedAt: Date.now(),
    };
    expect(await stub.completeMany([late, late])).toEqual([{ accepted: false }, { accepted: false }]);
    const after = await settle(runId);
    expect(after.context).toEqual(report.context);
    expect(after.contextVersion).toBe(report.contextVersion);
    expect(after.steps).toEqual(report.steps);
  });

  it("a lost message is dispatched again when its lease runs out, with the same idempotency key", async () => {
    const lost = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("lost", testServer.url), {}, lost.queue);
    expect(lost.sent.messages).toHaveLength(2);
    const leases = await leasesOf(runId);
    expect(leases).toHaveLength(2);

    // The queue works again; the leases run out (the alarm fires at their time).
    const working = spyQueue({ drop: false });
    await runInDurableObject(runObject(runId), async (instance: RunObject) => {
      instance.stepsQueue = working.queue;
    });
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(working.sent.messages.map((message) => [message.nodeId, message.attempt, message.dispatch])).toEqual([
      ["a", 1, 1],
      ["b", 1, 1],
    ]);
    for (const nodeId of ["a", "b"]) {
      const requests = await testServer.requests(`/lost/${nodeId}`);
      expect(requests.map((request) => request.headers["idempotency-key"])).toEqual([`${runId}:${nodeId}:1`]);
      // No consumer claimed the first sending: a resend, not an interruption.
      expect(await storedStep(runId, nodeId)).toMatchObject({
        status: "success",
        attempts: 1,
        interruptions: 0,
        resends: 1,
      });
    }
    expect(await leasesOf(runId)).toEqual([]);

    // The first sending turns up late after all: stale, acked, and nothing runs.
    const late = await deliverSteps(lost.sent.messages);
    expect(late.explicitAcks).toHaveLength(2);
    expect(await testServer.requests("/lost/a")).toHaveLength(1);
  });

  it("a claimed attempt's lease lasts the node's timeout plus a grace period", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("claimed", testServer.url), {}, queue);
    const before = Date.now();
    const stub = runObject(runId) as unknown as StepRunApi;
    const [job] = await stub.claimMany([{ nodeId: "a", attempt: 1, dispatch: 0 }]);
    expect(job).toMatchObject({
      runId,
      command: { nodeId: "a", attempt: 1, idempotencyKey: `${runId}:a:1`, timeoutMs: 30_000 },
      node: { id: "a", type: "http" },
    });
    const lease = (await leasesOf(runId)).find((entry) => entry.id === "lease:a:1");
    expect(lease?.claimed).toBe(true);
    expect(lease?.at ?? 0).toBeGreaterThanOrEqual(before + 30_000 + claimGraceMs);
    // A message of another sending does not match the lease.
    expect(await stub.claimMany([{ nodeId: "b", attempt: 1, dispatch: 1 }])).toEqual([null]);
    // `a` is with its claimant; the messages run only `b`.
    await deliverSteps(sent.messages);
    expect(await runClaimed(runId, job)).toEqual([{ accepted: true }]);
    expect((await settle(runId)).status).toBe("success");
    expect(await testServer.requests("/claimed/a")).toHaveLength(1);
  });
});

describe("the dead-letter queue", () => {
  it("acks a dead letter and the run sends its attempt again at once", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("dead-letter", testServer.url), {}, queue);
    await runInDurableObject(runObject(runId), async (instance: RunObject) => {
      instance.stepsQueue = spyQueue({ drop: false }).queue;
    });
    const result = await deliverSteps(sent.messages, "signalbox-steps-dlq");
    expect(result.explicitAcks).toHaveLength(2);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(await storedStep(runId, "a")).toMatchObject({ attempts: 1, interruptions: 0, resends: 1 });
    expect(await testServer.requests("/dead-letter/a")).toHaveLength(1);
    // A dead letter of a sending that is over changes nothing.
    const stale = await deliverSteps(sent.messages, "signalbox-steps-dlq");
    expect(stale.explicitAcks).toHaveLength(2);
    expect((await settle(runId)).steps).toEqual(report.steps);
  });
});

describe("llm steps through the queue", () => {
  it("runs two llm steps that are ready together on consumers, with the run's prices and usage", async () => {
    const model = uniqueModel("queued");
    await llmServer.script(model, [
      { content: "one", usage: { input: 10, output: 2 } },
      { content: "two", usage: { input: 10, output: 2 } },
    ]);
    const { queue, sent } = spyQueue({ drop: false });
    const definition = {
      id: "llm-pair",
      name: "llm-pair",
      triggers: [{ type: "manual" }],
      nodes: [
        { id: "x", type: "llm", config: { model, prompt: "first", output: "x" } },
        { id: "y", type: "llm", config: { model, prompt: "second", output: "y" } },
      ],
      edges: [],
    };
    const runId = await startWithQueue(definition, {}, queue);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(sent.messages.map((message) => message.nodeId)).toEqual(["x", "y"]);
    expect([report.context.x, report.context.y].sort()).toEqual(["one", "two"]);
    for (const nodeId of ["x", "y"]) {
      expect(llmStep(report, nodeId).llm?.calls).toMatchObject([{ attempt: 1, outcome: "ok", costUsd: 0.000014 }]);
    }
    expect(await llmServer.requests(model)).toHaveLength(2);
  });
});

describe("restarts", () => {
  it("after an eviction, sends again what was not claimed and leaves a claimed attempt to its lease", async () => {
    const { queue, sent } = spyQueue({ drop: true });
    const runId = await startWithQueue(pair("evicted", testServer.url), {}, queue);
    const stub = runObject(runId) as unknown as StepRunApi;
    const [job] = await stub.claimMany([{ nodeId: "a", attempt: 1, dispatch: 0 }]);
    await evictDurableObject(runObject(runId));

    // A redelivery of `a`'s message finds it held: acked, not run. `b` was sent again (alone: inline).
    const [a] = sent.messages as [StepMessage];
    const delivered = await deliverSteps([a]);
    expect(delivered.explicitAcks).toHaveLength(1);
    expect(await testServer.requests("/evicted/a")).toEqual([]);
    // The consumer holding `a` reports after the restart.
    expect(await runClaimed(runId, job)).toEqual([{ accepted: true }]);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(await storedStep(runId, "a")).toMatchObject({ attempts: 1, interruptions: 0 });
    expect(await storedStep(runId, "b")).toMatchObject({ attempts: 1, interruptions: 0, resends: 1 });
    expect(await testServer.requests("/evicted/a")).toHaveLength(1);
    expect((await testServer.requests("/evicted/b")).map((request) => request.headers["idempotency-key"])).toEqual([
      `${runId}:b:1`,
    ]);
    expect(await leasesOf(runId)).toEqual([]);
  });
});
