import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RunObject } from "../../src/run/run-object";
import { api, register, settle, startManual } from "./helpers";
import { fireAlarm, runObject } from "./support";

function timersOf(runId: string) {
  return runInDurableObject(runObject(runId), async (_instance: RunObject, state) => ({
    timers: state.storage.sql.exec<{ id: string; at: number }>("SELECT id, at FROM timers ORDER BY at").toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

function stepStatuses(report: { steps: { nodeId: string; status: string }[] }) {
  return Object.fromEntries(report.steps.map((step) => [step.nodeId, step.status]));
}

describe("branch routing", () => {
  const t = (key: string) => ({ type: "transform", config: { set: { [key]: "true" } } });
  it.each([
    {
      priority: "high",
      expected: { route: "success", page: "success", paged: "success", reply: "skipped", join: "success" },
    },
    {
      priority: "low",
      expected: { route: "success", page: "skipped", paged: "skipped", reply: "success", join: "success" },
    },
  ])("routes $priority priority and skips the untaken branch up to the join", async ({ priority, expected }) => {
    await register({
      id: `branch-${priority}`,
      name: "Branch",
      triggers: [{ type: "manual" }],
      nodes: [
        {
          id: "route",
          type: "branch",
          config: { cases: [{ when: "input.priority = 'high'", to: "page" }], default: "reply" },
        },
        { id: "page", ...t("page") },
        { id: "paged", ...t("paged") },
        { id: "reply", ...t("reply") },
        { id: "join", type: "transform", config: { set: { joined: "$exists(paged) or $exists(reply)" } } },
      ],
      edges: [
        { from: "route", to: "page" },
        { from: "route", to: "reply" },
        { from: "page", to: "paged" },
        { from: "paged", to: "join" },
        { from: "reply", to: "join" },
      ],
    });
    const report = await settle(await startManual(`branch-${priority}`, { priority }));
    expect(report.status).toBe("success");
    expect(stepStatuses(report)).toEqual(expected);
    expect(report.context.joined).toBe(true);
    expect(report.steps.find((step) => step.nodeId === "join")?.attempts).toBe(1);
  });
});

describe("wait node", () => {
  const napper = (id: string, config: Record<string, unknown>) => ({
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "nap", type: "wait", config },
      { id: "after", type: "transform", config: { set: { woke: "true" } } },
    ],
    edges: [{ from: "nap", to: "after" }],
  });

  it("sleeps on the alarm for a duration and finishes when it fires", async () => {
    await register(napper("wait-duration", { duration: "5m" }));
    const runId = await startManual("wait-duration");
    const asleep = await settle(runId);
    expect(asleep.status).toBe("waiting");
    expect(stepStatuses(asleep)).toEqual({ nap: "waiting", after: "pending" });
    const { timers, alarm } = await timersOf(runId);
    expect(timers.map((timer) => timer.id)).toEqual(["wake:nap:1"]);
    expect(alarm).toBe(timers[0]?.at);
    const slept = (alarm ?? 0) - (asleep.steps[0]?.startedAt ?? 0);
    expect(slept).toBeGreaterThanOrEqual(5 * 60_000);
    expect(slept).toBeLessThan(5 * 60_000 + 5_000);

    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(stepStatuses(report)).toEqual({ nap: "success", after: "success" });
    expect(report.context.woke).toBe(true);
    expect(await timersOf(runId)).toEqual({ timers: [], alarm: null });
  });

  it("goes straight on when `until` is in the past", async () => {
    await register(napper("wait-past", { until: "'2000-01-01T00:00:00Z'" }));
    const runId = await startManual("wait-past");
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(stepStatuses(report)).toEqual({ nap: "success", after: "success" });
    expect((await timersOf(runId)).timers).toEqual([]);
  });

  it("fails the run when `until` is not a time", async () => {
    await register(napper("wait-garbage", { until: "'not a time'" }));
    const report = await settle(await startManual("wait-garbage"));
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "node.expression_failed", nodeId: "nap" });
    expect(stepStatuses(report)).toEqual({ nap: "failed", after: "skipped" });
  });

  it("cancels a waiting run, clears its timers, and ignores a later alarm", async () => {
    await register(napper("wait-cancel", { duration: "1h" }));
    const runId = await startManual("wait-cancel");
    expect((await settle(runId)).status).toBe("waiting");
    const response = await api(`/api/runs/${runId}/cancel`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ runId, status: "cancelled" });

    const cancelled = await settle(runId);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.error).toMatchObject({ code: "run.cancelled" });
    expect(stepStatuses(cancelled)).toEqual({ nap: "cancelled", after: "skipped" });
    expect(await timersOf(runId)).toEqual({ timers: [], alarm: null });

    expect(await fireAlarm(runId)).toBe(false);
    const later = await settle(runId);
    expect(later.status).toBe("cancelled");
    expect(later.updatedAt).toBe(cancelled.updatedAt);
  });
});

describe("context versions", () => {
  it("serves every version of the context and names the node behind each", async () => {
    await register({
      id: "ctx-versions",
      name: "Context versions",
      triggers: [{ type: "manual" }],
      nodes: [
        { id: "a", type: "transform", config: { set: { count: "input.start + 1" } } },
        { id: "b", type: "transform", config: { set: { count: "count * 10", label: "'ten'" } } },
      ],
      edges: [{ from: "a", to: "b" }],
    });
    const runId = await startManual("ctx-versions", { start: 4 });
    const report = await settle(runId);
    expect(report.contextVersion).toBe(2);
    expect(report.contextVersions.map(({ version, nodeId }) => [version, nodeId])).toEqual([
      [0, null],
      [1, "a"],
      [2, "b"],
    ]);

    const at = async (query: string) => {
      const response = await api(`/api/runs/${runId}/context${query}`);
      expect(response.status).toBe(200);
      return (await response.json()) as {
        runId: string;
        version: number;
        hash: string;
        context: Record<string, unknown>;
      };
    };
    const v0 = await at("?version=0");
    expect(Object.keys(v0.context).sort()).toEqual(["input", "run", "trigger"]);
    expect(v0.context).toMatchObject({
      input: { start: 4 },
      trigger: { type: "manual" },
      run: { id: runId, workflowId: "ctx-versions", version: 1, publicUrl: "http://signalbox.test" },
    });
    expect((await at("?version=1")).context).toMatchObject({ count: 5 });
    expect((await at("?version=1")).context).not.toHaveProperty("label");
    expect((await at("?version=2")).context).toMatchObject({ count: 50, label: "ten" });
    const latest = await at("");
    expect(latest).toEqual({ runId, version: 2, hash: report.contextVersions[2]?.hash, context: report.context });
    expect(latest.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
