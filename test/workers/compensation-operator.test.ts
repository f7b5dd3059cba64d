import { describe, expect, it } from "vitest";
import type { ExecutionReport } from "../../src/run/report";
import { api, register, settle, startManual } from "./helpers";
import { expectError, testServer } from "./support";

/** Two http steps with a compensate, then one that fails; the workflow does not roll back by itself. */
function saga(id: string, extra: Record<string, unknown> = {}) {
  const step = (name: string, n: number) => ({
    id: name,
    type: "http",
    config: { method: "POST", url: `{{ input.base }}/${id}/${name}`, body: `{ 'n': ${n} }`, output: name },
    compensate: { method: "DELETE", url: `{{ input.base }}/${id}/undo/{{ output.body.body.n }}` },
  });
  return {
    id,
    name: id,
    nodes: [
      step("s1", 1),
      step("s2", 2),
      { id: "s3", type: "http", config: { method: "POST", url: "{{ input.base }}/status/400" } },
    ],
    edges: [
      { from: "s1", to: "s2" },
      { from: "s2", to: "s3" },
    ],
    ...extra,
  };
}

function compensate(runId: string, json: unknown = {}) {
  return api(`/api/runs/${runId}/compensate`, { method: "POST", json });
}

const undoPaths = async (id: string) =>
  (await testServer.requests()).filter((request) => request.path.startsWith(`/${id}/undo/`)).map((r) => r.path);

describe("POST /api/runs/:runId/compensate", () => {
  it("lists what it would undo on a dry run, then undoes it last first, audited", async () => {
    await register(saga("comp-op"));
    const runId = await startManual("comp-op", { base: testServer.url });
    const failed = await settle(runId);
    expect(failed).toMatchObject({ status: "failed", rolledBack: null, compensation: null });

    const preview = await compensate(runId, { dryRun: true });
    expect(preview.status).toBe(200);
    expect(await preview.json()).toEqual({ runId, status: "failed", layers: [["s2"], ["s1"]], dryRun: true });
    expect(await undoPaths("comp-op")).toEqual([]);

    const done = await compensate(runId, { reason: "invoice withdrawn" });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ runId, layers: [["s2"], ["s1"]], dryRun: false });
    const report: ExecutionReport = await settle(runId);
    expect(report).toMatchObject({ status: "failed", rolledBack: true, error: { nodeId: "s3" } });
    expect(report.compensation).toMatchObject({ cause: "failed", layers: [["s2"], ["s1"]], layer: 2 });
    expect(report.operations.at(-1)).toMatchObject({
      type: "compensate",
      nodes: ["s2", "s1"],
      reason: "invoice withdrawn",
    });
    expect(await undoPaths("comp-op")).toEqual(["/comp-op/undo/2", "/comp-op/undo/1"]);

    const audit = (await (await api(`/api/runs/${runId}/operations`)).json()) as {
      operations: { operation: string; details: unknown }[];
    };
    expect(audit.operations.map((entry) => entry.operation)).toEqual(["compensate"]);
    expect(audit.operations[0]?.details).toMatchObject({ layers: [["s2"], ["s1"]], reason: "invoice withdrawn" });

    // Everything is undone: nothing is left to compensate, and the run is not taken up again.
    await expectError(await compensate(runId), 409, "run.nothing_to_compensate");
    await expectError(await api(`/api/runs/${runId}/retry`, { method: "POST", json: {} }), 409, "run.not_failed");
  });

  it("takes up a rollback that was given up on, undoing only what is left", async () => {
    const id = "comp-op-again";
    await testServer.script(`/${id}/undo/2`, [{ status: 400 }]);
    await register(saga(id, { onFailure: "compensate" }));
    const runId = await startManual(id, { base: testServer.url });
    expect((await settle(runId)).status).toBe("needs_review");
    expect((await api(`/api/runs/${runId}/cancel`, { method: "POST", json: {} })).status).toBe(200);
    const abandoned = await settle(runId);
    expect(abandoned).toMatchObject({ status: "failed", rolledBack: false });

    const done = await compensate(runId);
    expect(await done.json()).toMatchObject({ layers: [["s2"], ["s1"]] });
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "failed", rolledBack: true });
    const s2 = report.steps.find((step) => step.nodeId === "s2");
    // The second attempt of the undo, under the same key as the first.
    expect(s2?.compensation).toMatchObject({ status: "success", attempts: 2 });
    const keys = (await testServer.requests(`/${id}/undo/2`)).map((request) => request.headers["idempotency-key"]);
    expect(keys).toEqual([`${runId}:s2:compensate`, `${runId}:s2:compensate`]);
  });

  it("refuses an active run, a successful one, one with nothing to undo, an unknown one and a bad body", async () => {
    await register({
      id: "comp-op-wait",
      name: "comp-op-wait",
      nodes: [{ id: "nap", type: "wait", config: { duration: "1h" } }],
    });
    const waiting = await startManual("comp-op-wait");
    expect((await settle(waiting)).status).toBe("waiting");
    await expectError(await compensate(waiting), 409, "run.not_ended");
    expect((await api(`/api/runs/${waiting}/cancel`, { method: "POST", json: {} })).status).toBe(200);
    await expectError(await compensate(waiting), 409, "run.nothing_to_compensate");

    await register({
      id: "comp-op-ok",
      name: "comp-op-ok",
      nodes: [{ id: "t", type: "transform", config: { set: { x: "1" } } }],
    });
    const ok = await startManual("comp-op-ok");
    expect((await settle(ok)).status).toBe("success");
    await expectError(await compensate(ok), 409, "run.not_failed");

    await expectError(await compensate("run_01m00000000000000000000000"), 404, "run.not_found");
    await expectError(await compensate(ok, { dryRun: "yes" }), 400, "request.invalid");
  });
});
