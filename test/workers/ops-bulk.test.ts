import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { expectError, testServer } from "./support";

/** check (transform) -> charge (http: a 400 when the input says so, unless fixed) */
function billing(id: string, fixed = false) {
  const url = fixed
    ? `${testServer.url}/${id}/charge`
    : `{{ input.fail ? '${testServer.url}/status/400?tag=${id}' : '${testServer.url}/${id}/charge' }}`;
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "check", type: "transform", config: { set: { checked: "true" } } },
      { id: "charge", type: "http", config: { method: "POST", url }, retry: { maxAttempts: 1 } },
    ],
    edges: [{ from: "check", to: "charge" }],
  };
}

interface Planned {
  runId: string;
  status: string;
  failedNodes: string[];
  errorCode: string | null;
  plan: { will: string; reason?: string };
}

async function bulk(body: unknown) {
  return api("/api/runs/bulk", { method: "POST", json: body });
}

describe("bulk operations", () => {
  it("a dry run lists exactly the matching runs and what would happen; the real one reruns them after a fix", async () => {
    const id = "ops-bulk";
    const other = "ops-bulk-other";
    await register(billing(id));
    await register(billing(other));
    const failing = [];
    for (let i = 0; i < 3; i++) failing.push(await startManual(id, { fail: true }));
    const fine = [await startManual(id, { fail: false }), await startManual(id, { fail: false })];
    const elsewhere = await startManual(other, { fail: true });
    for (const runId of [...failing, ...fine, elsewhere]) await settle(runId);

    const dry = await bulk({ action: "rerun", dryRun: true, filter: { workflow: id, status: "failed" } });
    expect(dry.status).toBe(200);
    const listed = (await dry.json()) as { matched: number; wouldAct: number; truncated: boolean; runs: Planned[] };
    expect(listed).toMatchObject({ matched: 3, wouldAct: 3, truncated: false, dryRun: true, action: "rerun" });
    expect(listed.runs.map((run) => run.runId).sort()).toEqual([...failing].sort());
    for (const run of listed.runs) {
      expect(run).toMatchObject({
        status: "failed",
        failedNodes: ["charge"],
        errorCode: "node.http_status",
        plan: { will: "retry" },
      });
    }
    // Nothing happened.
    for (const runId of failing) expect((await settle(runId)).status).toBe("failed");

    // The other filters: failed node and error code across workflows, a time range, a version.
    const byNode = (await (
      await bulk({ action: "rerun", dryRun: true, filter: { failedNode: "charge", errorCode: "node.http_status" } })
    ).json()) as { runs: Planned[] };
    expect(byNode.runs.map((run) => run.runId).sort()).toEqual([...failing, elsewhere].sort());
    const everything = (await (await bulk({ action: "rerun", dryRun: true, filter: { workflow: id } })).json()) as {
      runs: Planned[];
    };
    expect(everything.runs).toHaveLength(5);
    expect(everything.runs.filter((run) => run.plan.will === "skip").map((run) => run.plan.reason)).toEqual([
      "run.not_failed",
      "run.not_failed",
    ]);
    const reports = await Promise.all([...failing, ...fine].map((runId) => settle(runId)));
    const since = Math.min(...reports.slice(3).map((report) => report.createdAt));
    const createdFrom = (at: number) =>
      reports.filter((report) => report.createdAt >= at).map((report) => report.runId);
    const late = (await (
      await bulk({ action: "rerun", dryRun: true, filter: { workflow: id, from: new Date(since).toISOString() } })
    ).json()) as { runs: Planned[] };
    expect(late.runs.map((run) => run.runId).sort()).toEqual(createdFrom(since).sort());
    expect(late.runs.map((run) => run.runId)).toEqual(expect.arrayContaining(fine));
    const early = (await (
      await bulk({ action: "rerun", dryRun: true, filter: { workflow: id, to: since } })
    ).json()) as {
      runs: Planned[];
    };
    expect(early.runs.map((run) => run.runId).sort()).toEqual(
      reports
        .filter((report) => report.createdAt < since)
        .map((report) => report.runId)
        .sort(),
    );
    const none = (await (
      await bulk({ action: "rerun", dryRun: true, filter: { workflow: id, version: 2 } })
    ).json()) as {
      matched: number;
    };
    expect(none.matched).toBe(0);
    const limited = (await (
      await bulk({ action: "rerun", dryRun: true, limit: 2, filter: { workflow: id, status: "failed" } })
    ).json()) as { matched: number; truncated: boolean };
    expect(limited).toMatchObject({ matched: 2, truncated: true });

    // The fix, then the real thing.
    await register(billing(id, true));
    const done = await bulk({ action: "rerun", version: "latest", filter: { workflow: id, status: "failed" } });
    expect(done.status).toBe(200);
    const result = (await done.json()) as {
      done: number;
      refused: number;
      bulkId: string;
      runs: { runId: string; outcome: string }[];
    };
    expect(result).toMatchObject({ done: 3, refused: 0, skipped: 0 });
    expect(result.runs.map((run) => run.outcome)).toEqual(["done", "done", "done"]);
    for (const runId of failing) {
      const report = await settle(runId);
      expect(report).toMatchObject({ status: "success", version: 2 });
      expect(report.steps.find((step) => step.nodeId === "check")?.attempts).toBe(1);
    }
    expect((await settle(elsewhere)).status).toBe("failed");
    const audit = (await (await api(`/api/runs/${failing[0]}/operations`)).json()) as {
      operations: { operation: string; bulkId: string }[];
    };
    expect(audit.operations).toEqual([expect.objectContaining({ operation: "retry", bulkId: result.bulkId })]);
  });

  it("cancels the matching active runs, and refuses what moved on", async () => {
    const id = "ops-bulk-cancel";
    await register({
      id,
      name: id,
      nodes: [{ id: "nap", type: "wait", config: { duration: "1h" } }],
    });
    const runs = [await startManual(id), await startManual(id)];
    for (const runId of runs) await settle(runId);
    const dry = (await (await bulk({ action: "cancel", dryRun: true, filter: { workflow: id } })).json()) as {
      runs: Planned[];
    };
    expect(dry.runs.map((run) => run.plan.will)).toEqual(["cancel", "cancel"]);
    const done = (await (await bulk({ action: "cancel", filter: { workflow: id, status: "waiting" } })).json()) as {
      done: number;
    };
    expect(done.done).toBe(2);
    for (const runId of runs) expect((await settle(runId)).status).toBe("cancelled");
    const again = (await (await bulk({ action: "cancel", filter: { workflow: id } })).json()) as {
      done: number;
      skipped: number;
    };
    expect(again).toMatchObject({ done: 0, skipped: 2 });
  });

  it("records a single-run pause, resume and cancel exactly as their bulk counterparts", async () => {
    const napper = (id: string) => ({ id, name: id, nodes: [{ id: "nap", type: "wait", config: { duration: "1h" } }] });
    const single = "ops-single-audit";
    const grouped = "ops-bulk-audit";
    await register(napper(single));
    await register(napper(grouped));
    const alone = await startManual(single);
    const together = await startManual(grouped);
    for (const runId of [alone, together]) await settle(runId);

    for (const action of ["pause", "resume", "cancel"]) {
      expect((await api(`/api/runs/${alone}/${action}`, { method: "POST" })).status).toBe(200);
      await settle(alone);
      const done = (await (await bulk({ action, filter: { workflow: grouped } })).json()) as { done: number };
      expect(done.done).toBe(1);
      await settle(together);
    }
    expect((await settle(alone)).status).toBe("cancelled");

    type Operation = { runId: string; operation: string; at: number; bulkId: string | null; details: unknown };
    const trail = async (runId: string) =>
      ((await (await api(`/api/runs/${runId}/operations`)).json()) as { operations: Operation[] }).operations;
    const [own, bulked] = [await trail(alone), await trail(together)];
    // Newest first; the same operations, the single ones with no bulk request.
    expect(own.map((entry) => entry.operation)).toEqual(["cancel", "resume", "pause"]);
    expect(bulked.map((entry) => entry.operation)).toEqual(["cancel", "resume", "pause"]);
    for (const entry of own) expect(entry).toMatchObject({ runId: alone, bulkId: null, at: expect.any(Number) });
    for (const entry of bulked)
      expect(entry).toMatchObject({ runId: together, bulkId: expect.stringMatching(/^bulk_/) });
    expect(own[0]).toEqual({ ...bulked[0], runId: alone, at: own[0]?.at, bulkId: null });
  });

  it("acts on the runs named by id, alone or with other fields, and leaves the rest alone", async () => {
    const id = "ops-bulk-ids";
    await register({ id, name: id, nodes: [{ id: "nap", type: "wait", config: { duration: "1h" } }] });
    const runs = [await startManual(id), await startManual(id), await startManual(id)];
    for (const runId of runs) await settle(runId);
    const [first, second, third] = runs as [string, string, string];

    const dry = await bulk({ action: "pause", dryRun: true, filter: { runIds: [first, second] } });
    expect(dry.status).toBe(200);
    const listed = (await dry.json()) as { matched: number; wouldAct: number; runs: Planned[] };
    expect(listed).toMatchObject({ matched: 2, wouldAct: 2, dryRun: true, action: "pause", truncated: false });
    expect(listed.runs.map((run) => run.runId).sort()).toEqual([first, second].sort());
    expect(listed.runs.map((run) => run.plan.will)).toEqual(["pause", "pause"]);
    for (const runId of runs) expect((await settle(runId)).status).toBe("waiting");

    // Combined with other fields, both must hold.
    const other = (await (
      await bulk({ action: "pause", dryRun: true, filter: { runIds: [first, third], workflow: "ops-bulk-cancel" } })
    ).json()) as { matched: number };
    expect(other.matched).toBe(0);
    const both = (await (
      await bulk({ action: "pause", dryRun: true, filter: { runIds: [first, third], workflow: id, status: "waiting" } })
    ).json()) as { runs: Planned[] };
    expect(both.runs.map((run) => run.runId).sort()).toEqual([first, third].sort());

    const done = await bulk({ action: "pause", filter: { runIds: [first, second] } });
    expect(done.status).toBe(200);
    const result = (await done.json()) as { done: number; runs: { runId: string; outcome: string }[] };
    expect(result).toMatchObject({ done: 2, skipped: 0, refused: 0 });
    expect(result.runs.map((run) => run.runId).sort()).toEqual([first, second].sort());
    expect((await settle(first)).status).toBe("paused");
    expect((await settle(second)).status).toBe("paused");
    expect((await settle(third)).status).toBe("waiting");
    const untouched = (await (await api(`/api/runs/${third}/operations`)).json()) as { operations: unknown[] };
    expect(untouched.operations).toEqual([]);
  });

  it("refuses a malformed list of run ids, naming the problem", async () => {
    const runId = "run_0123456789abcdefghijklmnop";
    const refused = async (runIds: unknown, mention: string) => {
      const body = await expectError(await bulk({ action: "cancel", filter: { runIds } }), 400, "request.invalid");
      expect(body.error.message).toContain(mention);
    };
    await refused(runId, "must be an array");
    await refused([], "at least one run");
    await refused(
      Array.from({ length: 201 }, () => runId),
      "at most 200",
    );
    await refused([runId, "run_nope"], "filter.runIds[1] is not a run id");
    await refused([runId, 7], "filter.runIds[1] is not a run id");
  });

  it("refuses bad bulk requests with stable codes", async () => {
    await expectError(await bulk({ action: "rerun", filter: {} }), 400, "bulk.filter_empty");
    await expectError(await bulk({ action: "rerun" }), 400, "bulk.filter_empty");
    await expectError(await bulk({ action: "explode", filter: { workflow: "x" } }), 400, "request.invalid");
    await expectError(await bulk({ action: "rerun", filter: { status: "sleepy" } }), 400, "request.invalid");
    await expectError(await bulk({ action: "rerun", filter: { from: "yesterday" } }), 400, "request.invalid");
    await expectError(
      await bulk({ action: "rerun", filter: { workflow: "x", colour: "red" } }),
      400,
      "request.invalid",
    );
    await expectError(
      await bulk({ action: "cancel", version: "latest", filter: { workflow: "x" } }),
      400,
      "request.invalid",
    );
    await expectError(await bulk({ action: "rerun", limit: 5000, filter: { workflow: "x" } }), 400, "request.invalid");
  });
});
