import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/triggers/start-run";
import { double, reportOf, settleTree } from "./children-helpers";
import { api, register, startManual } from "./helpers";
import { expectError } from "./support";

/** Every run below `runId` in D1: a child's id is its parent's plus `.<node>.<attempt>.<index>`. */
async function d1Descendants(runId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM runs WHERE id > ? AND id < ? ORDER BY id")
    .bind(`${runId}.`, `${runId}/`)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

async function blobKeysUnder(runId: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `runs/${runId}` });
  return listed.objects.map((object) => object.key);
}

async function deleteRun(runId: string): Promise<Response> {
  return api(`/api/runs/${runId}`, { method: "DELETE" });
}

/** A leaf that writes a value over the 64 KiB inline limit, so each leaf run holds one blob. */
const leafBody = {
  nodes: [
    {
      id: "work",
      type: "transform",
      config: { set: { big: '$pad("", 70000, "x")', value: "input * 2" } },
    },
  ],
  output: "value",
};

/** A subworkflow target: fails while it is v1, waits an hour from v2 on. */
function target(version: "failing" | "waiting") {
  const work =
    version === "failing"
      ? { id: "work", type: "transform", config: { set: { value: '$error("not yet")' } } }
      : { id: "work", type: "wait", config: { duration: "1h" } };
  return { id: "delete-target", name: "Target", nodes: [work] };
}

describe("DELETE /api/runs/:runId with child runs", () => {
  it("deletes the whole tree: every child's object, blobs and D1 rows, deepest first", async () => {
    await register({
      id: "delete-tree",
      name: "Tree",
      nodes: [
        {
          id: "outer",
          type: "map",
          config: {
            items: "input.groups",
            body: {
              nodes: [{ id: "inner", type: "map", config: { items: "input", body: leafBody, output: "doubled" } }],
              output: "doubled",
            },
            output: "doubled",
          },
        },
      ],
    });
    const runId = await startManual("delete-tree", { groups: [[1, 2], [3]] });
    const report = await settleTree(runId);
    expect(report.status).toBe("success");
    expect(report.context.doubled).toEqual([[2, 4], [6]]);
    const children = [`${runId}.outer.1.0`, `${runId}.outer.1.1`];
    const leaves = [`${children[0]}.inner.1.0`, `${children[0]}.inner.1.1`, `${children[1]}.inner.1.0`];
    const tree = [...children, ...leaves];
    for (const id of tree) await runStub(env, id).idle(); // their checkpoints are in D1
    expect(await d1Descendants(runId)).toEqual([...tree].sort());
    expect(await blobKeysUnder(runId)).toHaveLength(3);

    const response = await deleteRun(runId);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      deleted: { objectStorage: boolean; childRuns: number; blobs: number; rows: Record<string, number> };
    };
    expect(body).toMatchObject({ runId, status: "success" });
    expect(body.deleted).toMatchObject({ objectStorage: true, childRuns: 5, blobs: 3 });
    expect(body.deleted.rows.runs).toBe(6);

    for (const id of [runId, ...tree]) {
      expect({ id, report: await runStub(env, id).report() }).toEqual({ id, report: null });
      await expectError(await api(`/api/runs/${id}`), 404, "run.not_found");
    }
    expect(await d1Descendants(runId)).toEqual([]);
    const steps = await env.DB.prepare("SELECT COUNT(*) AS count FROM steps WHERE run_id > ? AND run_id < ?")
      .bind(`${runId}.`, `${runId}/`)
      .first<{ count: number }>();
    expect(steps?.count).toBe(0);
    expect(await blobKeysUnder(runId)).toEqual([]);
    // Each child's audit trail names the run it went with.
    const operations = (await (await api(`/api/runs/${leaves[2]}/operations`)).json()) as {
      operations: { operation: string; details: unknown }[];
    };
    expect(operations.operations).toMatchObject([{ operation: "delete", details: { deletedWith: runId } }]);
  });

  it("records the deletion of each of a 20-item map's children in the audit trail", async () => {
    await register({
      id: "delete-wide",
      name: "Wide",
      nodes: [{ id: "each", type: "map", config: { items: "input.items", body: double, output: "doubled" } }],
    });
    const items = Array.from({ length: 20 }, (_, index) => index);
    const runId = await startManual("delete-wide", { items });
    expect((await settleTree(runId)).status).toBe("success");
    const response = await deleteRun(runId);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ deleted: { childRuns: 20, rows: { runs: 21 } } });
    const { results } = await env.DB.prepare(
      "SELECT run_id FROM run_operations WHERE operation = 'delete' AND (run_id = ? OR (run_id > ? AND run_id < ?))",
    )
      .bind(runId, `${runId}.`, `${runId}/`)
      .all<{ run_id: string }>();
    const expected = [runId, ...items.map((index) => `${runId}.each.1.${index}`)];
    expect(results.map((row) => row.run_id).sort()).toEqual(expected.sort());
  });

  it("refuses, deleting nothing, while a child run under an ended run is still active", async () => {
    await register(target("failing"));
    await register({
      id: "delete-caller",
      name: "Caller",
      nodes: [{ id: "call", type: "subworkflow", config: { workflow: "delete-target", output: "called" } }],
    });
    const runId = await startManual("delete-caller");
    expect((await settleTree(runId)).status).toBe("failed");
    const child = `${runId}.call.1.0`;
    expect((await reportOf(child)).status).toBe("failed");

    // The child alone is retried onto a version that waits: active again under its ended parent.
    await register(target("waiting"));
    const retried = await api(`/api/runs/${child}/retry`, { method: "POST", json: { version: "latest" } });
    expect(retried.status).toBe(200);
    expect((await reportOf(child)).status).toBe("waiting");

    const refused = await expectError(await deleteRun(runId), 409, "run.not_active");
    expect(refused.error.message).toContain(child);
    expect((await reportOf(runId)).status).toBe("failed");
    expect((await reportOf(child)).status).toBe("waiting");
    expect(await api(`/api/runs/${runId}`)).toHaveProperty("status", 200);

    expect((await api(`/api/runs/${child}/cancel`, { method: "POST" })).status).toBe(200);
    const response = await deleteRun(runId);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ runId, status: "failed", deleted: { childRuns: 1 } });
    expect(await runStub(env, child).report()).toBeNull();
  });
});
