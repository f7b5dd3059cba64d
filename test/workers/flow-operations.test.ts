import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/triggers/start-run";
import { gate, gated, reportOf, sendGo, start } from "./flow-support";
import { api, register } from "./helpers";
import { testServer } from "./support";

/** Runs that wait for `go` holding their slot (input.wait), or call a service once, without retries. */
function waitOrCall(id: string) {
  const workflow = gated(id, { concurrency: [{ limit: 1, holdWhileWaiting: true }] }, [
    {
      id: "route",
      type: "branch",
      config: { cases: [{ when: "input.wait = true", to: "hold" }], default: "call" },
    },
    { id: "hold", type: "wait", config: { event: "go", timeout: "1h" } },
    {
      id: "call",
      type: "http",
      config: { url: "{{ input.base }}/flow-operations/{{ input.path }}" },
      retry: { maxAttempts: 1 },
    },
  ]);
  return {
    ...workflow,
    edges: [
      { from: "route", to: "hold" },
      { from: "route", to: "call" },
    ],
  };
}

describe("flow: operations go through the gates", () => {
  it("a retry of a failed run while another holds the only slot queues, and runs once the slot is free", async () => {
    const { workflowId } = await register(waitOrCall("retry-gated"));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-operations/retry", [{ status: 500 }, { status: 200, body: { ok: true } }]);
    const a = await start(workflowId, { base: testServer.url, path: "retry" });
    expect((await reportOf(a)).status).toBe("failed");
    const b = await start(workflowId, { wait: true });
    expect((await reportOf(b)).status).toBe("waiting");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [] });

    const response = await api(`/api/runs/${a}/retry`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "queued", restarted: ["call"] });
    const queued = await reportOf(a);
    expect(queued.status).toBe("queued");
    expect(queued.flow?.waitingFor).toEqual({ kind: "concurrency", key: "_", running: 1, limit: 1, position: 1 });
    expect(queued.steps.find((step) => step.nodeId === "call")?.status).toBe("pending");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [a] });

    await sendGo(b);
    await runStub(env, a).idle();
    const done = await reportOf(a);
    expect(done.status).toBe("success");
    expect(done.steps.find((step) => step.nodeId === "route")?.attempts).toBe(1);
    expect(await slots.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });

  it("a retry with the slot free starts at once, and its end gives the slot back", async () => {
    const { workflowId } = await register(waitOrCall("retry-free"));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-operations/free", [{ status: 500 }, { status: 200, body: { ok: true } }]);
    const a = await start(workflowId, { base: testServer.url, path: "free" });
    expect((await reportOf(a)).status).toBe("failed");
    const response = await api(`/api/runs/${a}/retry`, { method: "POST" });
    expect(await response.json()).toMatchObject({ status: "running" });
    expect((await reportOf(a)).status).toBe("success");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });

  it("a replay of a gated workflow's run is a new run that queues at its gates like a trigger's", async () => {
    const { workflowId } = await register(waitOrCall("replay-gated"));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-operations/replay", [
      { status: 200, body: { n: 1 } },
      { status: 200, body: { n: 2 } },
    ]);
    const a = await start(workflowId, { base: testServer.url, path: "replay" });
    expect((await reportOf(a)).status).toBe("success");
    const b = await start(workflowId, { wait: true });
    expect((await reportOf(b)).status).toBe("waiting");

    const response = await api(`/api/runs/${a}/replay`, { method: "POST", json: { fromNode: "call" } });
    expect(response.status).toBe(202);
    const { runId: replay, status } = (await response.json()) as { runId: string; status: string };
    expect(status).toBe("queued");
    const queued = await reportOf(replay);
    expect(queued.status).toBe("queued");
    expect(queued.flow?.waitingFor).toMatchObject({ kind: "concurrency", position: 1 });
    expect(queued.steps.find((step) => step.nodeId === "route")?.status).toBe("success");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [replay] });

    await sendGo(b);
    await runStub(env, replay).idle();
    expect((await reportOf(replay)).status).toBe("success");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });
});
