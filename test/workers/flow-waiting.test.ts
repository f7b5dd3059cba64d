import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/triggers/start-run";
import { gate, gated, reportOf, sendGo, start } from "./flow-support";
import { api, register } from "./helpers";
import { runObject, testServer } from "./support";

/**
 * Runs that wait for the event `go` (input.wait) or sleep an hour (input.sleep), then log, or call a service that answers 503 and retry
 * an hour later (input.busy): a retry's backoff is work under way, so that run keeps its slot.
 */
function waitOrWork(id: string, concurrency: unknown) {
  const edges = [
    { from: "route", to: "hold" },
    { from: "route", to: "call" },
    { from: "hold", to: "after" },
    { from: "route", to: "nap" },
    { from: "nap", to: "after" },
  ];
  const workflow = gated(id, { concurrency }, [
    {
      id: "route",
      type: "branch",
      config: {
        cases: [
          { when: "input.wait = true", to: "hold" },
          { when: "input.sleep = true", to: "nap" },
        ],
        default: "call",
      },
    },
    { id: "nap", type: "wait", config: { duration: "1h" } },
    { id: "hold", type: "wait", config: { event: "go", timeout: "1h" } },
    { id: "after", type: "log", config: { message: "went on" } },
    {
      id: "call",
      type: "http",
      config: { url: "{{ input.base }}/flow-waiting/{{ input.path }}" },
      retry: { maxAttempts: 2, initialDelay: "1h" },
    },
  ]);
  return { ...workflow, edges };
}

async function cancel(runId: string): Promise<void> {
  const response = await api(`/api/runs/${runId}/cancel`, { method: "POST", json: {} });
  expect(response.status).toBeLessThan(300);
  await runStub(env, runId).idle();
}

describe("flow: a waiting run gives its slot back", () => {
  it("concurrency 1: A waits for an event and B starts; the event queues A until B ends, then A goes on", async () => {
    const { workflowId } = await register(waitOrWork("give-back", [{ limit: 1 }]));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-waiting/b", [{ status: 503 }]);
    const a = await start(workflowId, { wait: true });
    const waiting = await reportOf(a);
    expect(waiting.status).toBe("waiting");
    expect(waiting.flow?.released).toEqual({ parts: ["concurrency.0"], resuming: false });
    expect(waiting.flow?.waitingFor).toBeUndefined();

    const b = await start(workflowId, { base: testServer.url, path: "b" });
    const working = await reportOf(b);
    expect(working.status).toBe("waiting");
    expect(working.steps.find((step) => step.nodeId === "call")?.status).toBe("waiting");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [] });

    // The event ends A's wait: A asks for its slot again and waits for it; nothing of A runs.
    await sendGo(a);
    const queued = await reportOf(a);
    expect(queued.status).toBe("waiting");
    expect(queued.steps.find((step) => step.nodeId === "hold")?.status).toBe("waiting");
    expect(queued.flow?.released).toEqual({ parts: ["concurrency.0"], resuming: true });
    expect(queued.flow?.waitingFor).toEqual({ kind: "concurrency", key: "_", running: 1, limit: 1, position: 1 });
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [a] });
    // The wait has its event: another `go` is kept for a later wait, not taken and lost.
    const again = await api(`/api/runs/${a}/events/go`, { method: "POST", json: { payload: { n: 2 } } });
    expect(((await again.json()) as { status: string }).status).toBe("buffered");

    await cancel(b);
    await runStub(env, a).idle();
    const done = await reportOf(a);
    expect(done.status).toBe("success");
    expect(done.steps.find((step) => step.nodeId === "after")?.status).toBe("success");
    expect(done.flow?.released).toBeUndefined();
    expect(await slots.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });

  it("a sleep that ends while the slot is taken waits for it, then goes on", async () => {
    const { workflowId } = await register(waitOrWork("give-back-sleep", [{ limit: 1 }]));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-waiting/d", [{ status: 503 }]);
    const a = await start(workflowId, { sleep: true });
    expect((await reportOf(a)).flow?.released).toEqual({ parts: ["concurrency.0"], resuming: false });
    const b = await start(workflowId, { base: testServer.url, path: "d" });
    await reportOf(b);
    // The hour is up: the timer fires, and A asks for its slot instead of going on.
    await runInDurableObject(runObject(a), (_instance, state) => {
      state.storage.sql.exec("UPDATE timers SET at = at - 2 * 3600 * 1000");
    });
    await runStub(env, a).poke();
    const asking = await reportOf(a);
    expect(asking.steps.find((step) => step.nodeId === "nap")?.status).toBe("waiting");
    expect(asking.flow?.released?.resuming).toBe(true);
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [a] });
    await cancel(b);
    await runStub(env, a).idle();
    expect((await reportOf(a)).status).toBe("success");
  });

  it("holdWhileWaiting: true keeps the slot: B stays queued while A waits", async () => {
    const { workflowId } = await register(waitOrWork("hold-slot", [{ limit: 1, holdWhileWaiting: true }]));
    const a = await start(workflowId, { wait: true });
    const b = await start(workflowId, { wait: true });
    const held = await reportOf(a);
    expect(held.status).toBe("waiting");
    expect(held.flow?.released).toBeUndefined();
    expect((await reportOf(b)).status).toBe("queued");
    await sendGo(a);
    expect((await reportOf(a)).status).toBe("success");
    expect((await reportOf(b)).status).toBe("waiting");
  });

  it("a run cancelled while it asks for its slot again gives its place back", async () => {
    const { workflowId } = await register(waitOrWork("give-back-cancel", [{ limit: 1 }]));
    const slots = gate(workflowId, "concurrency.0", "_");
    await testServer.script("/flow-waiting/c", [{ status: 503 }]);
    const a = await start(workflowId, { wait: true });
    await reportOf(a);
    const b = await start(workflowId, { base: testServer.url, path: "c" });
    await reportOf(b);
    await sendGo(a);
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [a] });
    await cancel(a);
    expect((await reportOf(a)).status).toBe("cancelled");
    expect(await slots.stub.snapshot()).toMatchObject({ running: [b], waiting: [] });
    await cancel(b);
    expect(await slots.stub.snapshot()).toMatchObject({ running: [], waiting: [] });
  });
});
