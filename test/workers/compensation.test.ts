import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { DryRunReport } from "../../src/run/dry-run";
import type { ExecutionReport } from "../../src/run/report";
import { api, register, settle, startManual } from "./helpers";
import { expectError, fireAlarm, runObject, testServer } from "./support";

type Step = ExecutionReport["steps"][number];

/** An http step that posts `{n}` to `/<prefix>/<id>` and, undone, DELETEs `/<prefix>/undo/<n>` with what it got back. */
function undoable(prefix: string, id: string, n: number, compensate: Record<string, unknown> = {}) {
  return {
    id,
    type: "http",
    config: { method: "POST", url: `{{ input.base }}/${prefix}/${id}`, body: `{ 'n': ${n} }`, output: id },
    compensate: {
      method: "DELETE",
      url: `{{ input.base }}/${prefix}/undo/{{ output.body.body.n }}`,
      body: "{ 'undo': output.body.path, 'run': run.id }",
      ...compensate,
    },
  };
}

function stepOf(report: ExecutionReport, nodeId: string): Step {
  const step = report.steps.find((entry) => entry.nodeId === nodeId);
  if (!step) throw new Error(`no step ${nodeId}`);
  return step;
}

async function undoRequests(prefix: string) {
  return (await testServer.requests()).filter((request) => request.path.startsWith(`/${prefix}/undo/`));
}

describe("compensation of a failed run", () => {
  it("undoes steps 3, 2, 1 in that order when step 4 fails, each once under its own key", async () => {
    await register({
      id: "comp-chain",
      name: "comp-chain",
      onFailure: "compensate",
      nodes: [
        undoable("comp-chain", "s1", 1),
        undoable("comp-chain", "s2", 2),
        undoable("comp-chain", "s3", 3),
        { id: "s4", type: "http", config: { method: "POST", url: "{{ input.base }}/status/422" } },
      ],
      edges: [
        { from: "s1", to: "s2" },
        { from: "s2", to: "s3" },
        { from: "s3", to: "s4" },
      ],
    });
    const runId = await startManual("comp-chain", { base: testServer.url });
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.rolledBack).toBe(true);
    expect(report.error).toMatchObject({ code: "node.http_status", nodeId: "s4" });
    expect(report.compensation).toMatchObject({ cause: "failed", layers: [["s3"], ["s2"], ["s1"]], layer: 3 });

    const undone = await undoRequests("comp-chain");
    expect(undone.map((request) => request.path)).toEqual([
      "/comp-chain/undo/3",
      "/comp-chain/undo/2",
      "/comp-chain/undo/1",
    ]);
    expect(undone.map((request) => request.method)).toEqual(["DELETE", "DELETE", "DELETE"]);
    expect(undone.map((request) => request.headers["idempotency-key"])).toEqual([
      `${runId}:s3:compensate`,
      `${runId}:s2:compensate`,
      `${runId}:s1:compensate`,
    ]);
    expect(JSON.parse(undone[0]?.body ?? "null")).toEqual({ undo: "/comp-chain/s3", run: runId });

    for (const nodeId of ["s1", "s2", "s3"]) {
      expect(stepOf(report, nodeId)).toMatchObject({
        status: "success",
        compensation: { status: "success", attempts: 1, error: null },
      });
    }
    expect(stepOf(report, "s4")).toMatchObject({ status: "failed", compensation: null });
  });

  it("undoes a parallel pair together, after what followed it and before what came before it", async () => {
    await register({
      id: "comp-pair",
      name: "comp-pair",
      onFailure: "compensate",
      nodes: [
        undoable("comp-pair", "a", 1),
        undoable("comp-pair", "b", 2),
        undoable("comp-pair", "c", 3),
        { id: "d", type: "http", config: { method: "POST", url: "{{ input.base }}/status/400" } },
      ],
      edges: [
        { from: "a", to: "b" },
        { from: "a", to: "c" },
        { from: "b", to: "d" },
        { from: "c", to: "d" },
      ],
    });
    const runId = await startManual("comp-pair", { base: testServer.url });
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "failed", rolledBack: true });
    expect(report.compensation?.layers).toEqual([["b", "c"], ["a"]]);

    const undone = (await undoRequests("comp-pair")).map((request) => request.path);
    expect(undone).toHaveLength(3);
    expect(new Set(undone.slice(0, 2))).toEqual(new Set(["/comp-pair/undo/2", "/comp-pair/undo/3"]));
    expect(undone[2]).toBe("/comp-pair/undo/1");
    const b = stepOf(report, "b").compensation;
    const c = stepOf(report, "c").compensation;
    const a = stepOf(report, "a").compensation;
    // Started in the same turn; a only once both were done.
    expect(b?.startedAt).toBe(c?.startedAt);
    expect(a?.startedAt).toBeGreaterThanOrEqual(Math.max(b?.endedAt ?? 0, c?.endedAt ?? 0));
  });

  it("retries a failing compensation on the alarm, holds the run for review when it runs out, and reports it", async () => {
    const undoPath = "/comp-review/undo/1";
    await testServer.script(undoPath, [{ status: 503 }, { status: 503 }, { status: 200, body: { undone: true } }]);
    await register({
      id: "comp-review",
      name: "comp-review",
      onFailure: "compensate",
      nodes: [
        undoable("comp-review", "s1", 1, { retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "30s" } }),
        { id: "s2", type: "http", config: { method: "POST", url: "{{ input.base }}/status/400" } },
      ],
      edges: [{ from: "s1", to: "s2" }],
    });
    const runId = await startManual("comp-review", { base: testServer.url });
    const waiting = await settle(runId);
    expect(waiting.status).toBe("waiting");
    expect(stepOf(waiting, "s1").compensation).toMatchObject({
      status: "waiting",
      attempts: 1,
      error: { code: "node.http_status" },
    });

    expect(await fireAlarm(runId)).toBe(true);
    const review = await settle(runId);
    expect(review.status).toBe("needs_review");
    expect(review.rolledBack).toBeNull();
    expect(stepOf(review, "s1").compensation).toMatchObject({
      status: "failed",
      attempts: 2,
      error: { code: "node.http_status", details: { status: 503 } },
    });
    const keys = (await testServer.requests(undoPath)).map((request) => request.headers["idempotency-key"]);
    expect(keys).toEqual([`${runId}:s1:compensate`, `${runId}:s1:compensate`]);

    // An operator's retry runs it again, under the same key, and the rollback finishes.
    const retried = await api(`/api/runs/${runId}/retry`, { method: "POST", json: {} });
    expect(retried.status).toBe(200);
    const done = await settle(runId);
    expect(done).toMatchObject({ status: "failed", rolledBack: true });
    expect(stepOf(done, "s1").compensation).toMatchObject({ status: "success", attempts: 3, error: null });
    expect(await testServer.requests(undoPath)).toHaveLength(3);
    // A rolled-back run is not taken up again.
    await expectError(await api(`/api/runs/${runId}/retry`, { method: "POST", json: {} }), 409, "run.not_failed");
  });

  it("ends failed and not rolled back when cancelled while a compensation is held for review", async () => {
    const undoPath = "/comp-giveup/undo/1";
    await testServer.script(undoPath, [{ status: 400 }]);
    await register({
      id: "comp-giveup",
      name: "comp-giveup",
      onFailure: "compensate",
      nodes: [
        undoable("comp-giveup", "s1", 1),
        { id: "s2", type: "http", config: { method: "POST", url: "{{ input.base }}/status/400" } },
      ],
      edges: [{ from: "s1", to: "s2" }],
    });
    const runId = await startManual("comp-giveup", { base: testServer.url });
    expect((await settle(runId)).status).toBe("needs_review");
    const cancelled = await api(`/api/runs/${runId}/cancel`, { method: "POST", json: {} });
    expect(cancelled.status).toBe(200);
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "failed", rolledBack: false, error: { nodeId: "s2" } });
    expect(stepOf(report, "s1").compensation).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { code: "node.http_status", details: { status: 400 } },
    });
  });
});

describe("compensation across a restart", () => {
  it("picks up a compensation waiting out its backoff after the run's object restarts, under the same key", async () => {
    const undoPath = "/comp-restart/undo/1";
    await testServer.script(undoPath, [{ status: 502 }]);
    await register({
      id: "comp-restart",
      name: "comp-restart",
      onFailure: "compensate",
      nodes: [
        undoable("comp-restart", "s1", 1, { retry: { maxAttempts: 3, backoff: "fixed", initialDelay: "10s" } }),
        { id: "s2", type: "http", config: { method: "POST", url: "{{ input.base }}/status/400" } },
      ],
      edges: [{ from: "s1", to: "s2" }],
    });
    const runId = await startManual("comp-restart", { base: testServer.url });
    expect((await settle(runId)).status).toBe("waiting");
    // A rollback is not paused half-way.
    await expectError(await api(`/api/runs/${runId}/pause`, { method: "POST", json: {} }), 409, "run.not_active");
    await evictDurableObject(runObject(runId));

    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "failed", rolledBack: true });
    expect(stepOf(report, "s1").compensation).toMatchObject({ status: "success", attempts: 2 });
    const keys = (await testServer.requests(undoPath)).map((request) => request.headers["idempotency-key"]);
    expect(keys).toEqual([`${runId}:s1:compensate`, `${runId}:s1:compensate`]);
  });
});

describe("compensation of a cancelled run", () => {
  it("undoes only the steps that completed before the cancel", async () => {
    await register({
      id: "comp-cancel",
      name: "comp-cancel",
      onCancel: "compensate",
      nodes: [
        undoable("comp-cancel", "s1", 1),
        { id: "pause", type: "wait", config: { duration: "1h" } },
        undoable("comp-cancel", "s2", 2),
      ],
      edges: [
        { from: "s1", to: "pause" },
        { from: "pause", to: "s2" },
      ],
    });
    const runId = await startManual("comp-cancel", { base: testServer.url });
    expect((await settle(runId)).status).toBe("waiting");
    const cancelled = await api(`/api/runs/${runId}/cancel`, { method: "POST", json: { reason: "order withdrawn" } });
    expect(cancelled.status).toBe(200);
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "cancelled", rolledBack: true, error: { code: "run.cancelled" } });
    expect((await undoRequests("comp-cancel")).map((request) => request.path)).toEqual(["/comp-cancel/undo/1"]);
    expect(stepOf(report, "s1").compensation).toMatchObject({ status: "success", attempts: 1 });
    expect(stepOf(report, "pause")).toMatchObject({ status: "cancelled", compensation: null });
    expect(stepOf(report, "s2")).toMatchObject({ status: "skipped", compensation: null });
  });
});

describe("compensation in a dry run", () => {
  it("rolls back against the http mocks, sending nothing", async () => {
    await register({
      id: "comp-dry",
      name: "comp-dry",
      onFailure: "compensate",
      nodes: [
        undoable("comp-dry", "s1", 1),
        { id: "s2", type: "http", config: { method: "POST", url: "{{ input.base }}/comp-dry/s2" } },
      ],
      edges: [{ from: "s1", to: "s2" }],
    });
    const response = await api("/api/workflows/comp-dry/test", {
      method: "POST",
      json: {
        input: { base: testServer.url },
        http: [
          {
            method: "POST",
            url: `${testServer.url}/comp-dry/s1`,
            status: 201,
            body: { ok: true, path: "/p", body: { n: 7 } },
          },
          { method: "POST", url: `${testServer.url}/comp-dry/s2`, status: 400 },
          { method: "DELETE", url: `${testServer.url}/comp-dry/undo/7`, status: 200 },
        ],
      },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as DryRunReport;
    expect(report).toMatchObject({ dryRun: true, status: "failed", rolledBack: true });
    expect(stepOf(report, "s1").compensation).toMatchObject({ status: "success", attempts: 1 });
    expect(report.calls.map((call) => [call.nodeId, call.method, call.status])).toEqual([
      ["s1", "POST", 201],
      ["s2", "POST", 400],
      ["s1", "DELETE", 200],
    ]);
    expect(await testServer.requests("/comp-dry/undo/7")).toEqual([]);
  });
});

describe("compensation in definitions", () => {
  it("refuses onFailure compensate on a workflow with nothing to compensate, with its path", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      json: {
        id: "comp-nothing",
        name: "comp-nothing",
        onFailure: "compensate",
        nodes: [{ id: "t", type: "transform", config: { set: { x: "1" } } }],
      },
    });
    const body = await expectError(response, 422, "definition.nothing_to_compensate");
    expect(body.error.details).toMatchObject({
      issues: [{ code: "definition.nothing_to_compensate", path: ["onFailure"] }],
    });
  });

  it("refuses a compensate on a node type that cannot have one, with its path", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      json: {
        id: "comp-bad",
        name: "comp-bad",
        nodes: [{ id: "t", type: "transform", config: { set: { x: "1" } }, compensate: { url: "http://127.0.0.1/x" } }],
      },
    });
    const body = await expectError(response, 422, "definition.compensate_unsupported");
    expect(body.error.details).toMatchObject({
      issues: [{ code: "definition.compensate_unsupported", path: ["nodes", 0, "compensate"] }],
    });
  });
});
