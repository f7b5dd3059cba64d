import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { expectError, testServer } from "./support";

/** fetch (http, succeeds) -> charge (http, the URL comes from the definition) -> done (log). */
function checkout(id: string, chargeUrl: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "fetch", type: "http", config: { url: `${testServer.url}/${id}/order`, output: "order" } },
      {
        id: "charge",
        type: "http",
        config: { method: "POST", url: chargeUrl, body: "{ 'order': order.body.path }", output: "charge" },
        retry: { maxAttempts: 1 },
      },
      { id: "done", type: "log", config: { message: "charged {{ charge.status }}" } },
      ...((extra.nodes as unknown[]) ?? []),
    ],
    edges: [{ from: "fetch", to: "charge" }, { from: "charge", to: "done" }, ...((extra.edges as unknown[]) ?? [])],
  };
}

/** The run's D1 step rows, as the checkpoints left them. */
async function stepRows(runId: string) {
  const rows = await env.DB.prepare("SELECT node_id, status, error_code FROM steps WHERE run_id = ? ORDER BY node_id")
    .bind(runId)
    .all<{ node_id: string; status: string; error_code: string | null }>();
  return rows.results.map((row) => [row.node_id, row.status, row.error_code]);
}

async function retry(runId: string, body?: unknown): Promise<Response> {
  return api(`/api/runs/${runId}/retry`, { method: "POST", ...(body === undefined ? {} : { json: body }) });
}

describe("retry a failed run", () => {
  it("after a fix: reruns only the failed step, on the latest version, and never calls the http node that succeeded", async () => {
    const id = "ops-fix";
    await register(checkout(id, `${testServer.url}/status/400?tag=${id}`));
    const runId = await startManual(id);
    const failed = await settle(runId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "node.http_status", nodeId: "charge" });
    expect(await testServer.requests(`/${id}/order`)).toHaveLength(1);

    // The fix: version 2 charges the right endpoint.
    const { version } = await register(checkout(id, `${testServer.url}/${id}/charge`));
    expect(version).toBe(2);
    const response = await retry(runId, { version: "latest" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      runId,
      version: 2,
      fromVersion: 1,
      restarted: ["charge"],
    });
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.version).toBe(2);
    expect(report.error).toBeNull();
    // The step that already succeeded was not run again: one call, ever.
    expect(await testServer.requests(`/${id}/order`)).toHaveLength(1);
    const charges = await testServer.requests(`/${id}/charge`);
    expect(charges).toHaveLength(1);
    expect(charges[0]?.headers["idempotency-key"]).toBe(`${runId}:charge:2`);
    const fetch = report.steps.find((step) => step.nodeId === "fetch");
    const charge = report.steps.find((step) => step.nodeId === "charge");
    expect(fetch).toMatchObject({ status: "success", attempts: 1 });
    expect(charge).toMatchObject({ status: "success", attempts: 2 });
    expect(charge?.history.map((entry) => [entry.attempt, entry.outcome, entry.errorCode])).toEqual([
      [1, "failure", "node.http_status"],
      [2, "success", null],
    ]);
    expect(report.operations).toEqual([
      { type: "retry", at: expect.any(Number), nodes: ["charge"], fromVersion: 1, toVersion: 2 },
    ]);
    // D1 follows: the run's row has the new version and its final status.
    const row = await api(`/api/runs?workflow=${id}`);
    expect(((await row.json()) as { runs: { runId: string; version: number; status: string }[] }).runs).toEqual([
      expect.objectContaining({ runId, version: 2, status: "success" }),
    ]);
  });

  it("on its own version by default: a transient failure goes through on the retry", async () => {
    const id = "ops-transient";
    const path = `/${id}/charge`;
    await testServer.script(path, [{ status: 503 }, { status: 200, body: { ok: true } }]);
    await register(checkout(id, `${testServer.url}${path}`));
    const runId = await startManual(id);
    expect((await settle(runId)).status).toBe("failed");
    await register(checkout(id, `${testServer.url}/elsewhere`));
    const response = await retry(runId);
    expect(await response.json()).toMatchObject({ version: 1, fromVersion: 1, restarted: ["charge"] });
    const report = await settle(runId);
    expect(report).toMatchObject({ status: "success", version: 1 });
    expect(await testServer.requests(path)).toHaveLength(2);
    expect(await testServer.requests(`/${id}/order`)).toHaveLength(1);
  });

  it("shows the steps the failure kept from running as skipped, in the report and in D1, and runs them on retry", async () => {
    const id = "ops-skipped";
    const path = `/${id}/charge`;
    await testServer.script(path, [{ status: 400 }, { status: 200, body: { ok: true } }]);
    await register(checkout(id, `${testServer.url}${path}`));
    const runId = await startManual(id);
    const failed = await settle(runId);
    expect(failed.status).toBe("failed");
    expect(failed.steps.map((step) => [step.nodeId, step.status, step.skip])).toEqual([
      ["fetch", "success", null],
      ["charge", "failed", null],
      ["done", "skipped", { reason: "run.failed" }],
    ]);
    expect(failed.steps.find((step) => step.nodeId === "done")).toMatchObject({ attempts: 0, error: null });
    expect(await stepRows(runId)).toEqual([
      ["charge", "failed", "node.http_status"],
      ["done", "skipped", "run.failed"],
      ["fetch", "success", null],
    ]);

    expect((await retry(runId)).status).toBe(200);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.steps.map((step) => [step.nodeId, step.status, step.skip])).toEqual([
      ["fetch", "success", null],
      ["charge", "success", null],
      ["done", "success", null],
    ]);
    expect(report.steps.find((step) => step.nodeId === "done")).toMatchObject({ attempts: 1 });
    expect(await stepRows(runId)).toEqual([
      ["charge", "success", null],
      ["done", "success", null],
      ["fetch", "success", null],
    ]);
  });

  it("refuses what it cannot do, with a stable code", async () => {
    const id = "ops-refuse";
    await register(checkout(id, `${testServer.url}/status/400?tag=${id}`));
    const runId = await startManual(id);
    await settle(runId);

    // Version 2 drops `fetch`, which completed: it cannot take the run over.
    await register({
      id,
      name: id,
      nodes: [{ id: "charge", type: "http", config: { url: `${testServer.url}/${id}/x` } }],
    });
    const incompatible = await expectError(await retry(runId, { version: "latest" }), 409, "run.version_incompatible");
    expect(incompatible.error.details).toMatchObject({
      version: 2,
      problems: [{ nodeId: "fetch", reason: "removed" }],
    });
    await expectError(await retry(runId, { version: 9 }), 404, "workflow.version_not_found");
    await expectError(await retry(runId, { version: "newest" }), 400, "request.invalid");
    await expectError(await retry("run_00000000000000000000000000"), 404, "run.not_found");
    await expectError(await retry("nope"), 404, "run.not_found");

    const fine = "ops-refuse-ok";
    await register(checkout(fine, `${testServer.url}/${fine}/charge`));
    const succeeded = await startManual(fine);
    expect((await settle(succeeded)).status).toBe("success");
    await expectError(await retry(succeeded), 409, "run.not_failed");
    // The refused run is untouched.
    expect((await settle(runId)).status).toBe("failed");
  });
});

describe("dead letters", () => {
  it("lists failed runs with the nodes that ran out, counts them, and requeues one", async () => {
    const id = "ops-dlq";
    await register(checkout(id, `${testServer.url}/status/400?tag=${id}`));
    const first = await startManual(id);
    const second = await startManual(id);
    await settle(first);
    await settle(second);

    const listed = await api(`/api/dead-letters?workflow=${id}`);
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as {
      count: number;
      deadLetters: {
        runId: string;
        error: { code: string };
        nodes: { nodeId: string; attempts: number; error: { code: string } }[];
      }[];
    };
    expect(body.count).toBe(2);
    expect(body.deadLetters.map((letter) => letter.runId).sort()).toEqual([first, second].sort());
    expect(body.deadLetters[0]).toMatchObject({
      error: { code: "node.http_status" },
      nodes: [{ nodeId: "charge", type: "http", attempts: 1, error: { code: "node.http_status" } }],
    });

    const page = (await (await api(`/api/dead-letters?workflow=${id}&limit=1`)).json()) as {
      deadLetters: { runId: string }[];
      nextCursor: string;
    };
    expect(page.deadLetters).toHaveLength(1);
    const rest = (await (await api(`/api/dead-letters?workflow=${id}&limit=1&cursor=${page.nextCursor}`)).json()) as {
      deadLetters: { runId: string }[];
      nextCursor: string | null;
    };
    expect([page.deadLetters[0]?.runId, rest.deadLetters[0]?.runId].sort()).toEqual([first, second].sort());
    expect(rest.nextCursor).toBeNull();

    await register(checkout(id, `${testServer.url}/${id}/charge`));
    const requeued = await api(`/api/dead-letters/${first}/requeue`, { method: "POST", json: { version: "latest" } });
    expect(requeued.status).toBe(200);
    expect(await requeued.json()).toMatchObject({ runId: first, restarted: ["charge"], version: 2 });
    expect((await settle(first)).status).toBe("success");
    const after = (await (await api(`/api/dead-letters?workflow=${id}`)).json()) as {
      count: number;
      deadLetters: { runId: string }[];
    };
    expect(after.count).toBe(1);
    expect(after.deadLetters.map((letter) => letter.runId)).toEqual([second]);
    await expectError(await api(`/api/dead-letters/${first}/requeue`, { method: "POST" }), 409, "run.not_failed");
    await expectError(await api("/api/dead-letters?limit=0"), 400, "request.invalid");

    const audit = (await (await api(`/api/runs/${first}/operations`)).json()) as {
      operations: { operation: string }[];
    };
    expect(audit.operations.map((entry) => entry.operation)).toEqual(["requeue"]);
  });
});
