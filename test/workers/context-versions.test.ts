import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chainHash } from "../../src/lib/blob-ref";
import type { JsonObject } from "../../src/lib/json";
import { snapshotEvery } from "../../src/run/context-log";
import type { RunObject } from "../../src/run/run-object";
import { api, register, settle, startManual } from "./helpers";
import { runObject } from "./support";

const stepCount = 120;

/** A chain of transforms: each counts up and writes one of five rotating slots. */
function longChain(id: string) {
  const nodes = Array.from({ length: stepCount }, (_, index) => ({
    id: `s${index + 1}`,
    type: "transform",
    config: { set: { counter: "($exists(counter) ? counter : 0) + 1", [`slot${index % 5}`]: `'s${index + 1}'` } },
  }));
  const edges = nodes.slice(1).map((node, index) => ({ from: `s${index + 1}`, to: node.id }));
  return { id, name: id, triggers: [{ type: "manual" }], nodes, edges };
}

async function contextAt(
  runId: string,
  version: number,
): Promise<{ version: number; hash: string; context: JsonObject }> {
  const response = await api(`/api/runs/${runId}/context?version=${version}`);
  expect(response.status).toBe(200);
  return response.json();
}

describe("context versions", () => {
  it("reconstructs any version across snapshot boundaries, with a stable hash chain", async () => {
    await register(longChain("versions-chain"));
    const runId = await startManual("versions-chain", { seed: 7 });
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.contextVersion).toBe(stepCount);

    // The trace: version 0, then each step's output folded in the order of the versions it wrote.
    const v0 = await contextAt(runId, 0);
    expect(v0.context.input).toEqual({ seed: 7 });
    const expected: JsonObject[] = [v0.context];
    const byVersion = new Map(report.steps.map((step) => [step.contextVersion, step.output as JsonObject]));
    for (let version = 1; version <= stepCount; version++) {
      expected.push({ ...expected[version - 1], ...byVersion.get(version) });
    }
    const asked = [0, 49, 50, 51, 99, 100, 101, stepCount];
    for (const version of asked) {
      const answer = await contextAt(runId, version);
      expect({ version, context: answer.context }).toEqual({ version, context: expected[version] });
      expect(answer.hash).toBe(report.contextVersions[version]?.hash);
    }
    expect((await contextAt(runId, 51)).context.counter).toBe(51);

    // The chain, recomputed from the patches D1 holds: hash_n = sha256(hash_n-1 + canonical patch_n).
    const rows = await env.DB.prepare("SELECT version, patch FROM context_versions WHERE run_id = ? ORDER BY version")
      .bind(runId)
      .all<{ version: number; patch: string }>();
    let previous: string | null = null;
    const chain = rows.results.map((row) => {
      previous = chainHash(row.version === 0 ? null : previous, JSON.parse(row.patch) as JsonObject);
      return previous;
    });
    expect(chain).toHaveLength(stepCount + 1);
    expect(report.contextVersions.map((entry) => entry.hash)).toEqual(chain);
    expect(report.contextVersions.map((entry) => entry.nodeId)).toEqual([
      null,
      ...Array.from({ length: stepCount }, (_, index) => `s${index + 1}`),
    ]);

    // Snapshots exist at every boundary; with the patches below the first removed, reads (and a
    // reload after eviction) still answer, so they start from the nearest snapshot, not from 0.
    const snapshots = await runInDurableObject(runObject(runId), async (_instance: RunObject, state) => {
      const versions = state.storage.sql
        .exec<{ version: number }>("SELECT DISTINCT version FROM context_snapshots ORDER BY version")
        .toArray()
        .map((row) => row.version);
      state.storage.sql.exec("DELETE FROM context WHERE version > 0 AND version < ?", snapshotEvery);
      return versions;
    });
    expect(snapshots).toEqual([50, 100]);
    await evictDurableObject(runObject(runId));
    for (const version of [50, 51, 101, stepCount]) {
      const answer = await contextAt(runId, version);
      expect({ version, context: answer.context, hash: answer.hash }).toEqual({
        version,
        context: expected[version],
        hash: chain[version],
      });
    }
    const reloaded = await settle(runId);
    expect(reloaded.context).toEqual(expected[stepCount]);
  });
});
