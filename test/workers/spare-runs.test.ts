import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sortableId } from "../../src/lib/ids";
import type { RunObject } from "../../src/run/run-object";
import { isolateSpares } from "../../src/triggers/spare-runs";
import { runStub } from "../../src/triggers/start-run";
import { api, register, settle, startManual } from "./helpers";
import { expectError, fireAlarm, runObject, testServer } from "./support";

/** What a run object holds: its tables (the runtime's own aside) and its alarm. */
function inside(runId: string) {
  return runInDurableObject(runObject(runId), async (_instance: RunObject, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      )
      .toArray()
      .map((row) => row.name),
    alarm: await state.storage.getAlarm(),
  }));
}

/** A spare made the way a trigger's isolate makes one. */
async function makeSpare(expiresAt: number) {
  const spare = { runId: sortableId("run"), mintedAt: Date.now() };
  expect(await runStub(env, spare.runId).prepare({ expiresAt })).toEqual({ prepared: true });
  return spare;
}

/** A spare made as above, and the isolate's one spare from now on (replacing any an earlier trigger left). */
async function poolSpare(expiresAt: number) {
  const spare = await makeSpare(expiresAt);
  isolateSpares.take(Date.now(), 30_000);
  isolateSpares.giveBack(spare);
  return spare;
}

/** A one-node workflow started by hand; the node sets `done` unless another is given. */
function manualWorkflow(
  id: string,
  node: object = { id: "only", type: "transform", config: { set: { done: "true" } } },
) {
  return { id, name: id, triggers: [{ type: "manual" }], nodes: [node], edges: [] };
}

describe("spare run objects", () => {
  it("a spare has its tables and its alarm, and no run", async () => {
    const expiresAt = Date.now() + 90_000;
    const spare = await makeSpare(expiresAt);
    const held = await inside(spare.runId);
    expect(held.tables).toEqual(expect.arrayContaining(["meta", "run", "steps", "context", "timers", "outbox"]));
    expect(held.alarm).toBe(expiresAt);
    await expectError(await api(`/api/runs/${spare.runId}`), 404, "run.not_found");
    expect(await runStub(env, spare.runId).report()).toBeNull();
  });

  it("the next trigger takes the isolate's spare; the run's own timers replace its alarm", async () => {
    await register(manualWorkflow("spare-taken"));
    const expiresAt = Date.now() + 90_000;
    const spare = await poolSpare(expiresAt);
    const runId = await startManual("spare-taken");
    expect(runId).toBe(spare.runId);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ done: true });
    expect((await inside(runId)).alarm).not.toBe(expiresAt);
    // The next trigger does not get the same object again.
    expect(await startManual("spare-taken")).not.toBe(spare.runId);
  });

  it("a run started in a spare keeps the spare's alarm as its watch: taking it sets no alarm", async () => {
    await register(
      manualWorkflow("spare-watch", {
        id: "call",
        type: "http",
        config: { method: "GET", url: `${testServer.url}/delay/300` },
      }),
    );
    const expiresAt = Date.now() + 90_000;
    const spare = await poolSpare(expiresAt);
    const runId = await startManual("spare-watch");
    expect(runId).toBe(spare.runId);
    // The call is still out: the run is busy, so it has a watch, and the watch is the spare's alarm.
    const during = await runInDurableObject(runObject(runId), async (_instance: RunObject, state) => ({
      alarm: await state.storage.getAlarm(),
      watch: state.storage.sql.exec<{ at: number }>("SELECT at FROM timers WHERE id = 'watch'").toArray(),
    }));
    expect(during).toEqual({ alarm: expiresAt, watch: [{ at: expiresAt }] });
    expect((await settle(runId)).status).toBe("success");
    // Ended and flushed: no watch, no alarm.
    expect((await inside(runId)).alarm).toBeNull();
  });

  it("a trigger has the next spare made once its run is quiet; the trigger after it takes that one", async () => {
    await register(manualWorkflow("spare-refilled"));
    await isolateSpares.settled();
    isolateSpares.take(Date.now(), 30_000); // an empty pool: the trigger below makes the spare
    const first = await startManual("spare-refilled");
    await isolateSpares.settled();
    expect((await runStub(env, first).report())?.status).toBe("success");
    const spare = isolateSpares.take(Date.now(), 30_000);
    if (!spare) throw new Error("no spare was made after the first trigger");
    expect(spare.runId).not.toBe(first);
    expect((await inside(spare.runId)).tables).toContain("meta");
    expect(await runStub(env, spare.runId).report()).toBeNull();
    isolateSpares.giveBack(spare);
    expect(await startManual("spare-refilled")).toBe(spare.runId);
    expect((await settle(spare.runId)).status).toBe("success");
  });

  it("a spare no trigger took deletes itself at its alarm", async () => {
    const spare = await makeSpare(Date.now() + 90_000);
    expect(await fireAlarm(spare.runId)).toBe(true);
    expect(await inside(spare.runId)).toEqual({ tables: [], alarm: null });
    await expectError(await api(`/api/runs/${spare.runId}`), 404, "run.not_found");
  });

  it("an object that holds a run is not made a spare", async () => {
    await register(manualWorkflow("spare-refused"));
    const runId = await startManual("spare-refused");
    await settle(runId);
    expect(await runStub(env, runId).prepare({ expiresAt: Date.now() + 1_000 })).toEqual({ prepared: false });
    expect((await settle(runId)).status).toBe("success");
  });
});
