import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { expectError, fireAlarm } from "./support";

function waiter(id: string, wait: Record<string, unknown>, options: { napFirst?: boolean } = {}) {
  const nodes: Record<string, unknown>[] = [
    {
      id: "await",
      type: "wait",
      config: { event: "payment.settled", timeout: "1h", output: "payment", ...wait },
    },
    { id: "paid", type: "transform", config: { set: { result: "'paid ' & payment.payload.amount" } } },
    { id: "late", type: "transform", config: { set: { result: "'gave up'" } } },
  ];
  const edges = [
    { from: "await", to: "paid" },
    { from: "await", to: "late" },
  ];
  if (options.napFirst) {
    nodes.unshift({ id: "nap", type: "wait", config: { duration: "10m" } });
    edges.unshift({ from: "nap", to: "await" });
  }
  return { id, name: id, triggers: [{ type: "manual" }], nodes, edges };
}

function send(runId: string, name: string, body?: unknown) {
  return api(`/api/runs/${runId}/events/${name}`, { method: "POST", ...(body === undefined ? {} : { json: body }) });
}

describe("wait for an event", () => {
  it("completes when a matching event arrives; a non-matching one stays buffered", async () => {
    await register(waiter("evt-match", { match: "event.payload.order = input.order", timeoutTo: "late" }));
    const runId = await startManual("evt-match", { order: "A-1" });
    let report = await settle(runId);
    expect(report.status).toBe("waiting");
    expect(report.steps[0]).toMatchObject({ status: "waiting", awaiting: { event: "payment.settled" } });

    const other = await send(runId, "payment.settled", { payload: { order: "B-2", amount: 5 } });
    expect(other.status).toBe(202);
    expect(await other.json()).toMatchObject({ status: "buffered" });
    expect((await settle(runId)).status).toBe("waiting");

    const mine = await send(runId, "payment.settled", { payload: { order: "A-1", amount: 12 }, id: "pay-1" });
    expect(mine.status).toBe(202);
    expect(await mine.json()).toMatchObject({ status: "consumed", eventId: "pay-1", nodeId: "await" });
    report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.result).toBe("paid 12");
    expect(report.context.payment).toMatchObject({ name: "payment.settled", id: "pay-1", payload: { amount: 12 } });
    expect(report.steps.find((step) => step.nodeId === "late")?.status).toBe("skipped");

    // The same id again is a duplicate and changes nothing.
    const again = await send(runId, "payment.settled", { payload: { order: "A-1" }, id: "pay-1" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate", nodeId: "await" });
  });

  it("an event that arrives before the run reaches the wait is buffered and consumed there", async () => {
    await register(waiter("evt-early", { timeoutTo: "late" }, { napFirst: true }));
    const runId = await startManual("evt-early");
    expect((await settle(runId)).status).toBe("waiting");
    const early = await send(runId, "payment.settled", { payload: { amount: 3 } });
    expect(await early.json()).toMatchObject({ status: "buffered" });
    // The nap's wake-up: the wait starts, finds the buffered event and completes.
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.result).toBe("paid 3");
  });

  it("buffered events are consumed in arrival order", async () => {
    await register(waiter("evt-order", { timeoutTo: "late" }, { napFirst: true }));
    const runId = await startManual("evt-order");
    await settle(runId);
    for (const amount of [1, 2, 3]) await send(runId, "payment.settled", { payload: { amount } });
    await fireAlarm(runId);
    expect((await settle(runId)).context.result).toBe("paid 1");
  });

  it("a timeout takes the timeout path (alarm)", async () => {
    await register(waiter("evt-timeout", { timeoutTo: "late" }));
    const runId = await startManual("evt-timeout");
    await settle(runId);
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ result: "gave up", payment: { timedOut: true } });
    expect(report.steps.find((step) => step.nodeId === "paid")?.status).toBe("skipped");
  });

  it("without a timeout path a timeout fails the step", async () => {
    await register({
      id: "evt-fail",
      name: "evt-fail",
      nodes: [{ id: "await", type: "wait", config: { event: "go", timeout: "5m" } }],
    });
    const runId = await startManual("evt-fail");
    await settle(runId);
    await fireAlarm(runId);
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "node.event_timeout", nodeId: "await" });
  });

  it("answers for runs that ended or do not exist, and bad requests", async () => {
    await register({ id: "evt-done", name: "evt-done", nodes: [{ id: "x", type: "log", config: { message: "hi" } }] });
    const runId = await startManual("evt-done");
    expect((await settle(runId)).status).toBe("success");
    await expectError(await send(runId, "go", {}), 409, "run.not_active");
    await expectError(await send("run_00000000000000000000000000", "go", {}), 404, "run.not_found");
    await expectError(await send("nope", "go", {}), 404, "run.not_found");
    await expectError(await send(runId, "bad name!", {}), 400, "event.invalid");
    await expectError(await send(runId, "go", { id: 5 }), 400, "event.invalid");
  });

  it("the definition's timeoutTo must be a successor", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      json: {
        id: "evt-bad",
        name: "evt-bad",
        nodes: [
          { id: "await", type: "wait", config: { event: "go", timeout: "5m", timeoutTo: "elsewhere" } },
          { id: "elsewhere", type: "log", config: { message: "x" } },
        ],
      },
    });
    const body = await expectError(response, 422, "definition.branch_target");
    expect(body.error.message).toContain("no edge await -> elsewhere");
  });
});
