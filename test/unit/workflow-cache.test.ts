import { describe, expect, it } from "vitest";
import type { WorkflowDefinition } from "../../src/definition/schema";
import type { WorkflowForRun } from "../../src/store/triggers";
import { defaultWorkflowCacheTtlMs, WorkflowCache, workflowCacheTtlMs } from "../../src/store/workflow-cache";

function stored(version: number): WorkflowForRun {
  return {
    workflowId: "wf",
    version,
    hash: `h${version}`,
    createdAt: 0,
    definition: { id: "wf" } as unknown as WorkflowDefinition,
    disabledAt: null,
    deletedAt: null,
  };
}

/** A loader over a mutable "D1" that counts its reads. */
function source(initial: WorkflowForRun | undefined) {
  const db = { value: initial, reads: 0 };
  const load = async () => {
    db.reads += 1;
    return db.value;
  };
  return { db, load };
}

describe("WorkflowCache", () => {
  it("serves a read for the TTL, then reads again", async () => {
    const cache = new WorkflowCache();
    const { db, load } = source(stored(1));
    expect((await cache.get("wf", 1_000, 2_000, load))?.version).toBe(1);
    db.value = stored(2); // written by another isolate
    expect((await cache.get("wf", 2_999, 2_000, load))?.version).toBe(1);
    expect(db.reads).toBe(1);
    expect((await cache.get("wf", 3_000, 2_000, load))?.version).toBe(2);
    expect(db.reads).toBe(2);
  });

  it("reads again at once after a write through this isolate", async () => {
    const cache = new WorkflowCache();
    const { db, load } = source(stored(1));
    await cache.get("wf", 0, 2_000, load);
    db.value = { ...stored(1), disabledAt: 5 };
    cache.forget("wf");
    expect((await cache.get("wf", 10, 2_000, load))?.disabledAt).toBe(5);
    expect(db.reads).toBe(2);
  });

  it("does not keep a read that began before a write", async () => {
    const cache = new WorkflowCache();
    const db = { value: stored(1) };
    let release: () => void = () => {};
    const slow = cache.get("wf", 0, 2_000, () => new Promise((done) => (release = () => done(stored(1)))));
    db.value = stored(2);
    cache.forget("wf");
    release();
    expect((await slow)?.version).toBe(1); // that caller saw the old version, as it would have from D1
    expect((await cache.get("wf", 1, 2_000, async () => db.value))?.version).toBe(2);
  });

  it("never keeps a workflow that is not found, and keeps nothing with a TTL of 0", async () => {
    const cache = new WorkflowCache();
    const missing = source(undefined);
    expect(await cache.get("wf", 0, 2_000, missing.load)).toBeUndefined();
    missing.db.value = stored(1);
    expect((await cache.get("wf", 1, 2_000, missing.load))?.version).toBe(1);
    const off = source(stored(1));
    await cache.get("other", 0, 0, off.load);
    await cache.get("other", 0, 0, off.load);
    expect(off.db.reads).toBe(2);
  });

  it("does not serve an entry from the future (a clock that went back)", async () => {
    const cache = new WorkflowCache();
    const { db, load } = source(stored(1));
    await cache.get("wf", 5_000, 2_000, load);
    await cache.get("wf", 4_000, 2_000, load);
    expect(db.reads).toBe(2);
  });

  it("takes its TTL from WORKFLOW_CACHE_TTL", () => {
    expect(workflowCacheTtlMs({})).toBe(defaultWorkflowCacheTtlMs);
    expect(workflowCacheTtlMs({ WORKFLOW_CACHE_TTL: "0s" })).toBe(0);
    expect(workflowCacheTtlMs({ WORKFLOW_CACHE_TTL: "500ms" })).toBe(500);
    expect(workflowCacheTtlMs({ WORKFLOW_CACHE_TTL: "soon" })).toBe(defaultWorkflowCacheTtlMs);
  });
});
