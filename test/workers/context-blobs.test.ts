import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BlobRef, blobMarker, isBlobRef } from "../../src/lib/blob-ref";
import { runStub } from "../../src/triggers/start-run";
import { api, register, settle, startManual } from "./helpers";
import { spyQueue, startWithQueue } from "./steps-support";
import { expectError, fireAlarm, runObject, testServer } from "./support";

const fiveMegabytes = 5_000_000;
const tenMiB = 10 * 1024 * 1024;

async function blobKeys(runId: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `runs/${runId}/` });
  return listed.objects.map((object) => object.key);
}

function fetchLarge(id: string, bytes: number, output: string, seed = "") {
  return {
    id,
    type: "http",
    config: {
      url: `${testServer.url}/large/${bytes}?seed=${seed}`,
      output,
      map: "body",
      maxResponseBytes: tenMiB,
    },
  };
}

/** http -> a transform that copies the document -> a transform that reads fields of the copy. */
function largeFlow(id: string, bytes: number) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      fetchLarge("fetch", bytes, "doc"),
      { id: "copy", type: "transform", config: { set: { copy: "doc" } } },
      {
        id: "read",
        type: "transform",
        config: { set: { counted: "$count(copy.items)", declared: "copy.count", last: "copy.items[-1].i" } },
      },
    ],
    edges: [
      { from: "fetch", to: "copy" },
      { from: "copy", to: "read" },
    ],
  };
}

describe("large context values", () => {
  it("stores a 5 MB document once in R2 and every node sees the real value", async () => {
    await register(largeFlow("blobs-five", fiveMegabytes));
    const runId = await startManual("blobs-five", { note: "small" });
    const report = await settle(runId);
    expect(report.status).toBe("success");

    const { doc, copy } = report.context as unknown as { doc: BlobRef; copy: BlobRef };
    expect(isBlobRef(doc)).toBe(true);
    expect(copy).toEqual(doc);
    expect(doc.type).toBe("object");
    expect(doc.size).toBeGreaterThan(4_900_000);
    const hash = doc[blobMarker].slice("sha256:".length);
    expect(await blobKeys(runId)).toEqual([`runs/${runId}/blobs/${hash}`]);

    // Small values stay inline: what the last node read from the copy, and the run's input.
    expect(report.context.counted).toBeGreaterThan(4_000);
    expect(report.context.declared).toBe(report.context.counted);
    expect(report.context.last).toBe((report.context.counted as number) - 1);
    expect(report.context.input).toEqual({ note: "small" });
    // The step's own output (stored in the run's SQLite) holds the reference too.
    expect(report.steps.find((step) => step.nodeId === "fetch")?.output).toEqual({ doc });

    const inline = (await (await api(`/api/runs/${runId}/context?inline=true`)).json()) as {
      hash: string;
      context: { doc: { count: number; items: unknown[] }; copy: unknown };
    };
    expect(inline.context.doc.count).toBe(report.context.counted);
    expect(inline.context.doc.items).toHaveLength(report.context.counted as number);
    expect(inline.context.copy).toEqual(inline.context.doc);
    expect(inline.hash).toBe(report.contextVersions.at(-1)?.hash);
  });

  it("offloads large outputs of attempts that ran on queue consumers, and resolves them for the next node", async () => {
    const spy = spyQueue({ drop: false });
    const definition = {
      id: "blobs-parallel",
      name: "blobs-parallel",
      triggers: [{ type: "manual" }],
      nodes: [
        fetchLarge("left", 400_000, "leftDoc", "same"),
        fetchLarge("right", 400_000, "rightDoc", "same"),
        {
          id: "join",
          type: "transform",
          config: { set: { both: "$count(leftDoc.items) + $count(rightDoc.items)" } },
        },
      ],
      edges: [
        { from: "left", to: "join" },
        { from: "right", to: "join" },
      ],
    };
    const runId = await startWithQueue(definition, {}, spy.queue);
    const report = await settle(runId);
    expect(spy.sent.messages.map((message) => message.nodeId).sort()).toEqual(["left", "right"]);
    expect(report.status).toBe("success");
    const { leftDoc, rightDoc } = report.context as unknown as { leftDoc: BlobRef; rightDoc: BlobRef };
    expect(isBlobRef(leftDoc)).toBe(true);
    // The same content from two branches: one object.
    expect(rightDoc).toEqual(leftDoc);
    expect(await blobKeys(runId)).toHaveLength(1);
    // Started straight on its object (to spy on its queue), so read it there rather than by the API.
    const inline = (await runStub(env, runId).contextAt(undefined, { inline: true })) as unknown as {
      context: { leftDoc: { items: unknown[] } };
    };
    expect(report.context.both).toBe(inline.context.leftDoc.items.length * 2);
  });

  it("resolves references from R2 after the object restarts", async () => {
    await register({
      id: "blobs-restart",
      name: "blobs-restart",
      triggers: [{ type: "manual" }],
      nodes: [
        fetchLarge("fetch", 300_000, "doc", "restart"),
        { id: "nap", type: "wait", config: { duration: "1h" } },
        { id: "read", type: "transform", config: { set: { first: "$substring(doc.items[0].text, 0, 7)" } } },
      ],
      edges: [
        { from: "fetch", to: "nap" },
        { from: "nap", to: "read" },
      ],
    });
    const runId = await startManual("blobs-restart");
    expect((await settle(runId)).status).toBe("waiting");
    await evictDurableObject(runObject(runId));
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.first).toBe("restart");
    expect(isBlobRef(report.context.doc)).toBe(true);
  });

  it("keeps values under the inline limit in the run's storage", async () => {
    await register(largeFlow("blobs-small", 20_000));
    const runId = await startManual("blobs-small");
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(isBlobRef(report.context.doc)).toBe(false);
    expect((report.context.doc as { count: number }).count).toBe(report.context.counted);
    expect(await blobKeys(runId)).toEqual([]);
  });

  it("fails the step that would grow the context over its limit, without writing it", async () => {
    await register({
      id: "blobs-too-large",
      name: "blobs-too-large",
      triggers: [{ type: "manual" }],
      nodes: [fetchLarge("first", 6_000_000, "one", "a"), fetchLarge("second", 6_000_000, "two", "b")],
      edges: [{ from: "first", to: "second" }],
    });
    const runId = await startManual("blobs-too-large");
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    const second = report.steps.find((step) => step.nodeId === "second");
    expect(second?.status).toBe("failed");
    expect(second?.attempts).toBe(1);
    const error = second?.error as { code: string; message: string; retryable: boolean; details: unknown };
    expect(error).toMatchObject({
      code: "context.too_large",
      retryable: false,
      details: { nodeId: "second", key: "two", limitBytes: tenMiB },
    });
    expect(error.message).toContain("second");
    expect(error.message).toContain("two");
    expect((error.details as { contextBytes: number }).contextBytes).toBeGreaterThan(tenMiB);
    expect(report.contextVersion).toBe(1);
    expect(report.context.two).toBeUndefined();
    expect(await blobKeys(runId)).toHaveLength(1);
  });

  it("answers references unless inline=true, and rejects other inline values", async () => {
    await register(largeFlow("blobs-inline", 100_000));
    const runId = await startManual("blobs-inline");
    await settle(runId);
    const plain = (await (await api(`/api/runs/${runId}`)).json()) as { context: Record<string, unknown> };
    expect(isBlobRef(plain.context.doc)).toBe(true);
    const inline = (await (await api(`/api/runs/${runId}?inline=true`)).json()) as { context: Record<string, unknown> };
    expect((inline.context.doc as { count: number }).count).toBe(plain.context.counted);
    const v1 = (await (await api(`/api/runs/${runId}/context?version=1&inline=true`)).json()) as {
      version: number;
      context: Record<string, unknown>;
    };
    expect(v1.version).toBe(1);
    expect(v1.context.doc).toEqual(inline.context.doc);
    expect(v1.context.copy).toBeUndefined();
    await expectError(await api(`/api/runs/${runId}/context?inline=maybe`), 400, "request.invalid");
  });
});

describe("replays of runs with large values", () => {
  it("copies the original's blobs under the replay, which outlives the original's deletion", async () => {
    await register(largeFlow("blobs-replay", 200_000));
    const original = await startManual("blobs-replay");
    const before = await settle(original);
    expect(before.status).toBe("success");
    const large = { note: "z".repeat(100_000) };
    const response = await api(`/api/runs/${original}/replay`, {
      method: "POST",
      json: { fromNode: "read", context: { extra: large } },
    });
    expect(response.status).toBe(202);
    const replayId = ((await response.json()) as { runId: string }).runId;
    const replayed = await settle(replayId);
    expect(replayed.status).toBe("success");
    expect(replayed.context.counted).toBe(before.context.counted);
    expect(replayed.context.doc).toEqual(before.context.doc);
    expect(isBlobRef(replayed.context.extra)).toBe(true);
    // The document (copied from the original) and the large edit, under the replay's own prefix.
    expect(await blobKeys(replayId)).toHaveLength(2);

    expect((await api(`/api/runs/${original}`, { method: "DELETE" })).status).toBe(200);
    const inline = (await (await api(`/api/runs/${replayId}/context?version=0&inline=true`)).json()) as {
      context: { doc: { count: number }; extra: unknown };
    };
    expect(inline.context.doc.count).toBe(before.context.counted);
    expect(inline.context.extra).toEqual(large);
  });
});

describe("DELETE /api/runs/:runId", () => {
  it("removes the run's blobs, object storage and D1 rows; later reads are 404", async () => {
    await register(largeFlow("blobs-delete", 100_000));
    const runId = await startManual("blobs-delete");
    expect((await settle(runId)).status).toBe("success");
    expect(await blobKeys(runId)).toHaveLength(1);

    const response = await api(`/api/runs/${runId}`, { method: "DELETE" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      deleted: { objectStorage: boolean; blobs: number; rows: Record<string, number> };
    };
    expect(body.status).toBe("success");
    expect(body.deleted).toMatchObject({ objectStorage: true, blobs: 1 });
    expect(body.deleted.rows).toMatchObject({ runs: 1, steps: 3, context_versions: 4 });

    expect(await blobKeys(runId)).toEqual([]);
    for (const table of ["steps", "context_versions"]) {
      const row = await env.DB.prepare(`SELECT COUNT(*) AS count FROM ${table} WHERE run_id = ?`)
        .bind(runId)
        .first<{ count: number }>();
      expect({ table, count: row?.count }).toEqual({ table, count: 0 });
    }
    expect(await env.DB.prepare("SELECT 1 FROM runs WHERE id = ?").bind(runId).first()).toBeNull();
    await expectError(await api(`/api/runs/${runId}`), 404, "run.not_found");
    await expectError(await api(`/api/runs/${runId}/context`), 404, "run.not_found");
    await expectError(await api(`/api/runs/${runId}`, { method: "DELETE" }), 404, "run.not_found");
    // The deletion itself stays in the operators' audit trail.
    const operations = (await (await api(`/api/runs/${runId}/operations`)).json()) as {
      operations: { operation: string }[];
    };
    expect(operations.operations.map((entry) => entry.operation)).toEqual(["delete"]);
  });

  it("refuses a run that has not ended", async () => {
    await register({
      id: "blobs-delete-active",
      name: "blobs-delete-active",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "nap", type: "wait", config: { duration: "1h" } }],
      edges: [],
    });
    const runId = await startManual("blobs-delete-active");
    expect((await settle(runId)).status).toBe("waiting");
    await expectError(await api(`/api/runs/${runId}`, { method: "DELETE" }), 409, "run.not_active");
    expect((await settle(runId)).status).toBe("waiting");
  });
});
