import { describe, expect, it } from "vitest";
import type { ExecutionReport } from "../../src/run/report";
import { api, register, settle, startManual } from "./helpers";
import { expectError, testServer } from "./support";

/** source (http GET) -> price (transform) -> notify (http POST of the price) */
function pricing(id: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      {
        id: "source",
        type: "http",
        config: { url: `${testServer.url}/${id}/source`, output: "source", map: "body.path" },
      },
      {
        id: "price",
        type: "transform",
        config: { set: { price: "input.amount * rate", label: "'price for ' & source" } },
      },
      {
        id: "notify",
        type: "http",
        config: {
          method: "POST",
          url: `${testServer.url}/${id}/notify`,
          body: "{ 'price': price, 'label': label }",
          output: "notified",
          map: "status",
        },
      },
    ],
    edges: [
      { from: "source", to: "price" },
      { from: "price", to: "notify" },
    ],
  };
}

async function replay(runId: string, body: unknown): Promise<Response> {
  return api(`/api/runs/${runId}/replay`, { method: "POST", json: body });
}

describe("replay from a node", () => {
  it("from a middle node with an edited context: a new linked run, earlier steps taken from the original", async () => {
    const id = "ops-replay";
    await register(pricing(id));
    // `rate` is missing from the context, so price comes out wrong (null): the replay supplies it.
    const runId = await startManual(id, { amount: 10 });
    const original = await settle(runId);
    expect(original.status).toBe("success");
    expect(original.context).toMatchObject({ source: `/${id}/source` });
    expect(original.context.price).toBeNull();
    const before = JSON.stringify(original);

    const response = await replay(runId, { fromNode: "price", context: { rate: 1.5 } });
    expect(response.status).toBe(202);
    const started = (await response.json()) as { runId: string; replayOf: string; fromNode: string; taken: string[] };
    expect(started).toMatchObject({ replayOf: runId, fromNode: "price", taken: ["source"] });
    expect(started.runId).not.toBe(runId);

    const copy = await settle(started.runId);
    expect(copy.status).toBe("success");
    expect(copy.replayOf).toEqual({ runId, fromNode: "price" });
    expect(copy.context).toMatchObject({
      source: `/${id}/source`,
      rate: 1.5,
      price: 15,
      label: `price for /${id}/source`,
    });
    expect(copy.context.run).toMatchObject({
      id: started.runId,
      publicUrl: "http://signalbox.test",
      replayOf: { runId, fromNode: "price" },
    });
    const step = (report: ExecutionReport, nodeId: string) => report.steps.find((entry) => entry.nodeId === nodeId);
    expect(step(copy, "source")).toMatchObject({
      status: "success",
      attempts: 0,
      history: [],
      replayedFrom: { runId, contextVersion: 1 },
      output: { source: `/${id}/source` },
    });
    expect(step(copy, "price")).toMatchObject({ status: "success", attempts: 1, inputVersion: 0, contextVersion: 1 });
    // The http node before the replay point was not called again; the one after it was.
    expect(await testServer.requests(`/${id}/source`)).toHaveLength(1);
    const notified = await testServer.requests(`/${id}/notify`);
    expect(notified.map((request) => JSON.parse(request.body))).toEqual([
      { price: null, label: `price for /${id}/source` },
      { price: 15, label: `price for /${id}/source` },
    ]);
    // v0 of the replay is the seed with the edit; the original is untouched.
    const v0 = (await (await api(`/api/runs/${started.runId}/context?version=0`)).json()) as { context: object };
    expect(v0.context).toMatchObject({ input: { amount: 10 }, source: `/${id}/source`, rate: 1.5 });
    expect(v0.context).not.toHaveProperty("price");
    expect(JSON.stringify(await settle(runId))).toBe(before);

    const audit = (await (await api(`/api/runs/${runId}/operations`)).json()) as {
      operations: { operation: string; relatedRunId: string; details: { fromNode: string; editedKeys: string[] } }[];
    };
    expect(audit.operations).toEqual([
      expect.objectContaining({
        operation: "replay",
        relatedRunId: started.runId,
        details: expect.objectContaining({ fromNode: "price", editedKeys: ["rate"] }),
      }),
    ]);
    const listed = (await (await api(`/api/runs?workflow=${id}`)).json()) as {
      runs: { runId: string; trigger: string }[];
    };
    expect(listed.runs.find((run) => run.runId === started.runId)?.trigger).toBe("replay");
  });

  it("replays a replay without carrying over what the first one took", async () => {
    const id = "ops-replay-twice";
    await register(pricing(id));
    const runId = await startManual(id, { amount: 2 });
    await settle(runId);
    const first = (await (await replay(runId, { fromNode: "notify", context: { rate: 3 } })).json()) as {
      runId: string;
    };
    const copy = await settle(first.runId);
    expect(copy.steps.map((step) => [step.nodeId, step.replayedFrom?.runId ?? null])).toEqual([
      ["source", runId],
      ["price", runId],
      ["notify", null],
    ]);
    const second = (await (await replay(first.runId, { fromNode: "price" })).json()) as { runId: string };
    const again = await settle(second.runId);
    expect(again.status).toBe("success");
    expect(again.context).toMatchObject({ rate: 3, price: 6 });
    expect(await testServer.requests(`/${id}/source`)).toHaveLength(1);
  });

  it("answers bad replays with stable codes", async () => {
    const id = "ops-replay-bad";
    await register({
      ...pricing(id),
      nodes: [...pricing(id).nodes, { id: "nap", type: "wait", config: { duration: "1h" } }],
      edges: [...pricing(id).edges, { from: "notify", to: "nap" }],
    });
    const runId = await startManual(id, { amount: 1 });
    expect((await settle(runId)).status).toBe("waiting");
    await expectError(await replay(runId, { fromNode: "price" }), 409, "run.not_ended");
    await api(`/api/runs/${runId}/cancel`, { method: "POST" });
    await settle(runId);
    await expectError(await replay(runId, { fromNode: "nowhere" }), 404, "run.node_not_found");
    await expectError(await replay(runId, { fromNode: "price", context: { run: {} } }), 422, "run.context_invalid");
    await expectError(await replay(runId, { fromNode: "price", context: [1] }), 422, "run.context_invalid");
    await expectError(await replay(runId, {}), 400, "request.invalid");
    await expectError(await replay("run_00000000000000000000000000", { fromNode: "price" }), 404, "run.not_found");
    // Everything before `nap` completed, so the cancelled run can be replayed from it.
    const ok = await replay(runId, { fromNode: "nap" });
    expect(ok.status).toBe(202);
  });
});

describe("context versions", () => {
  it("diffs two versions of a run's context", async () => {
    const id = "ops-diff";
    await register(pricing(id));
    const runId = await startManual(id, { amount: 4 });
    await settle(runId);
    const diff = await api(`/api/runs/${runId}/context/diff?from=1&to=3`);
    expect(diff.status).toBe(200);
    expect(await diff.json()).toEqual({
      runId,
      from: 1,
      to: 3,
      changes: [
        { op: "add", path: "/label", value: `price for /${id}/source` },
        { op: "add", path: "/notified", value: 200 },
        { op: "add", path: "/price", value: null },
      ],
    });
    const latest = (await (await api(`/api/runs/${runId}/context/diff`)).json()) as { from: number; to: number };
    expect(latest).toMatchObject({ from: 2, to: 3 });
    await expectError(await api(`/api/runs/${runId}/context/diff?from=9`), 404, "run.context_version_not_found");
    await expectError(await api(`/api/runs/${runId}/context/diff?to=-1`), 400, "request.invalid");
  });
});
