import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { expectError, fireAlarm, testServer } from "./support";

/** nap (wait 30s) -> ping (http) */
function napThenPing(id: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "nap", type: "wait", config: { duration: "30s" } },
      { id: "ping", type: "http", config: { url: `${testServer.url}/${id}/ping` } },
    ],
    edges: [{ from: "nap", to: "ping" }],
  };
}

const post = (path: string, json?: unknown) => api(path, { method: "POST", ...(json === undefined ? {} : { json }) });

describe("pause and resume", () => {
  it("a paused run holds a timer that comes due and starts nothing until resumed", async () => {
    const id = "ops-pause";
    await register(napThenPing(id));
    const runId = await startManual(id);
    expect((await settle(runId)).status).toBe("waiting");

    const paused = await post(`/api/runs/${runId}/pause`, { reason: "downstream is down" });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ runId, status: "paused", pausedAt: expect.any(Number) });

    // The sleep comes due while paused: held, not fired.
    expect(await fireAlarm(runId)).toBe(true);
    const held = await settle(runId);
    expect(held.status).toBe("paused");
    expect(held.paused).toMatchObject({ reason: "downstream is down", heldTimers: 1 });
    expect(held.steps.map((step) => [step.nodeId, step.status])).toEqual([
      ["nap", "waiting"],
      ["ping", "pending"],
    ]);
    expect(await testServer.requests(`/${id}/ping`)).toHaveLength(0);
    // D1 shows it too, so lists and bulk filters find paused runs.
    const listed = (await (await api(`/api/runs?workflow=${id}&status=paused`)).json()) as {
      runs: { runId: string }[];
    };
    expect(listed.runs.map((run) => run.runId)).toEqual([runId]);

    const resumed = await post(`/api/runs/${runId}/resume`);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ runId, released: 1 });
    const done = await settle(runId);
    expect(done.status).toBe("success");
    expect(done.paused).toBeNull();
    expect(done.operations.map((entry) => entry.type)).toEqual(["pause", "unpause"]);
    expect(await testServer.requests(`/${id}/ping`)).toHaveLength(1);
  });

  it("a cancelled paused run never starts another node", async () => {
    const id = "ops-pause-cancel";
    await register(napThenPing(id));
    const runId = await startManual(id);
    await settle(runId);
    await post(`/api/runs/${runId}/pause`);
    expect((await post(`/api/runs/${runId}/cancel`)).status).toBe(200);
    const cancelled = await settle(runId);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.steps.map((step) => step.status)).toEqual(["cancelled", "skipped"]);
    await expectError(await post(`/api/runs/${runId}/resume`), 409, "run.not_active");
    expect(await fireAlarm(runId)).toBe(false);
    expect((await settle(runId)).status).toBe("cancelled");
    expect(await testServer.requests(`/${id}/ping`)).toHaveLength(0);
  });

  it("answers operations that do not apply with stable codes", async () => {
    const id = "ops-pause-codes";
    await register(napThenPing(id));
    const runId = await startManual(id);
    await settle(runId);
    await expectError(await post(`/api/runs/${runId}/resume`), 409, "run.not_paused");
    expect((await post(`/api/runs/${runId}/pause`)).status).toBe(200);
    await expectError(await post(`/api/runs/${runId}/pause`), 409, "run.already_paused");
    await expectError(await post(`/api/runs/${runId}/retry`), 409, "run.not_failed");
    await expectError(await post(`/api/runs/${runId}/pause`, { reason: 5 }), 400, "request.invalid");
    await expectError(await post("/api/runs/run_00000000000000000000000000/pause"), 404, "run.not_found");
    await post(`/api/runs/${runId}/cancel`);
    await expectError(await post(`/api/runs/${runId}/pause`), 409, "run.not_active");
    await expectError(await post(`/api/runs/${runId}/cancel`), 409, "run.not_active");
  });
});
