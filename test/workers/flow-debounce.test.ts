import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/triggers/start-run";
import { gate, gated, reportOf, trigger } from "./flow-support";
import { api, register } from "./helpers";

const t0 = Date.UTC(2030, 0, 1);
const logOnly = [{ id: "note", type: "log", config: { message: "started" } }];

/** Sets the debounce gate's clock, then triggers: the gate times the window by its own clock. */
async function triggerAt(workflowId: string, key: string, at: number, input: unknown) {
  await gate(workflowId, "debounce", key).setClock(at);
  return trigger(workflowId, input);
}

describe("flow: debounce", () => {
  it("triggers of a key within the period start one run, with the last input, once the key is quiet", async () => {
    const { workflowId } = await register(
      gated("debounced", { debounce: { period: "10s", key: "input.customer" } }, logOnly),
    );
    const window = gate(workflowId, "debounce", "a");
    const answers = [
      await triggerAt(workflowId, "a", t0, { customer: "a", n: 1 }),
      await triggerAt(workflowId, "a", t0 + 4_000, { customer: "a", n: 2 }),
      await triggerAt(workflowId, "a", t0 + 9_000, { customer: "a", n: 3 }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202]);
    const runId = answers[0]?.body.runId as string;
    expect(answers.map((answer) => answer.body)).toEqual([
      { status: "debounced", runId, version: 1, startsAt: t0 + 10_000 },
      { status: "debounced", runId, version: 1, startsAt: t0 + 14_000 },
      { status: "debounced", runId, version: 1, startsAt: t0 + 19_000 },
    ]);
    // Another key has its own window and its own run.
    const other = await triggerAt(workflowId, "b", t0 + 9_000, { customer: "b" });
    expect(other.body.runId).not.toBe(runId);

    // Quiet for 10s after the last trigger, not before.
    await window.setClock(t0 + 18_999);
    await window.alarm();
    expect(await runStub(env, runId).report()).toBeNull();
    expect((await api(`/api/runs/${runId}`)).status).toBe(404);
    await window.setClock(t0 + 19_000);
    await window.alarm();
    const report = await reportOf(runId);
    expect(report.status).toBe("success");
    expect(report.context.input).toEqual({ customer: "a", n: 3 });
    expect(report.context.trigger).toMatchObject({ type: "manual", debounce: { triggers: 3, firstAt: t0 } });
    expect(await window.stub.snapshot()).not.toHaveProperty("debouncing");

    // The next trigger of the key opens a new window: a new run.
    const later = await triggerAt(workflowId, "a", t0 + 20_000, { customer: "a", n: 4 });
    expect(later.body).toMatchObject({ status: "debounced", startsAt: t0 + 30_000 });
    expect(later.body.runId).not.toBe(runId);
  });

  it("maxWait starts the run that long after the first trigger, however often the key is triggered", async () => {
    const { workflowId } = await register(
      gated("debounce-max", { debounce: { period: "10s", maxWait: "25s" } }, logOnly),
    );
    const window = gate(workflowId, "debounce", "_");
    let runId = "";
    for (const [n, at] of [0, 8_000, 16_000, 24_000].entries()) {
      const answer = await triggerAt(workflowId, "_", t0 + at, { n });
      runId = answer.body.runId as string;
      expect(answer.body.startsAt).toBe(Math.min(t0 + at + 10_000, t0 + 25_000));
    }
    await window.setClock(t0 + 25_000);
    await window.alarm();
    const report = await reportOf(runId);
    expect(report.status).toBe("success");
    expect(report.context.input).toEqual({ n: 3 });
  });

  it("a repeated idempotency key is a duplicate of the window's run and does not move the window", async () => {
    const { workflowId } = await register(gated("debounce-dedup", { debounce: { period: "10s" } }, logOnly));
    await gate(workflowId, "debounce", "_").setClock(t0);
    const send = async (input: unknown, idempotencyKey: string) => {
      const response = await api(`/api/workflows/${workflowId}/runs`, {
        method: "POST",
        json: { input, idempotencyKey },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const first = await send({ n: 1 }, "k1");
    const second = await send({ n: 2 }, "k2");
    const repeat = await send({ n: 3 }, "k2");
    expect(first.body.runId).toBe(second.body.runId);
    expect(repeat).toEqual({ status: 200, body: { status: "duplicate", runId: first.body.runId, version: 1 } });
    const window = gate(workflowId, "debounce", "_");
    await window.setClock(t0 + 10_000);
    await window.alarm();
    expect((await reportOf(first.body.runId as string)).context.input).toEqual({ n: 2 });
  });

  it("a key that fails on an input puts the trigger under `_`, its run says so, and it still passes its gates", async () => {
    const { workflowId } = await register(
      gated("debounce-badkey", {
        debounce: { period: "5s", key: "$error('no key')" },
        concurrency: [{ limit: 1, holdWhileWaiting: true }],
      }),
    );
    const answer = await triggerAt(workflowId, "_", t0, { n: 1 });
    expect(answer.body.status).toBe("debounced");
    const runId = answer.body.runId as string;
    const window = gate(workflowId, "debounce", "_");
    await window.setClock(t0 + 5_000);
    await window.alarm();
    const report = await reportOf(runId);
    // It waits for the event `go`, holding the concurrency slot its gate granted.
    expect(report.status).toBe("waiting");
    expect(report.flow?.keyErrors).toEqual([
      { part: "debounce", message: expect.stringContaining("the key expression failed") },
    ]);
    expect(await gate(workflowId, "concurrency.0", "_").stub.snapshot()).toMatchObject({ running: [runId] });
  });
});
