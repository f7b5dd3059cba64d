import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, runIdsOf } from "./trigger-support";

function hook(workflowId: string, body: unknown) {
  return SELF.fetch(`http://signalbox.test/hooks/${workflowId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("disabling and deleting workflows", () => {
  it("a disabled workflow starts no run from any trigger, and runs again once enabled", async () => {
    await register(definition("life-disabled", [{ type: "manual" }, { type: "webhook" }]));
    await api("/api/workflows/life-disabled/disable", { method: "POST" });

    await expectError(
      await api("/api/workflows/life-disabled/runs", { method: "POST", json: { input: {} } }),
      409,
      "workflow.disabled",
    );
    await expectError(await hook("life-disabled", { a: 1 }), 409, "workflow.disabled");
    const list = (await (await api("/api/workflows")).json()) as {
      workflows: { workflowId: string; enabled: boolean }[];
    };
    expect(list.workflows.find((entry) => entry.workflowId === "life-disabled")).toMatchObject({ enabled: false });
    expect(await runIdsOf("life-disabled")).toEqual([]);

    await api("/api/workflows/life-disabled/enable", { method: "POST" });
    const started = await hook("life-disabled", { a: 1 });
    expect(started.status).toBe(202);
    await settle(((await started.json()) as { runId: string }).runId);
  });

  it("triggers see a new version, a disable and an enable at once, though the isolate keeps the latest version", async () => {
    await register(definition("life-cached", [{ type: "manual" }, { type: "webhook" }]));
    const first = (await (await hook("life-cached", { n: 1 })).json()) as { runId: string; version: number };
    expect(first.version).toBe(1);
    // A changed definition: an identical one would make no new version.
    await register(definition("life-cached", [{ type: "manual" }, { type: "webhook" }], { name: "life-cached v2" }));
    const second = (await (await hook("life-cached", { n: 2 })).json()) as { runId: string; version: number };
    expect(second.version).toBe(2);
    await api("/api/workflows/life-cached/disable", { method: "POST" });
    await expectError(await hook("life-cached", { n: 3 }), 409, "workflow.disabled");
    await api("/api/workflows/life-cached/enable", { method: "POST" });
    expect((await hook("life-cached", { n: 4 })).status).toBe(202);
    await settle(first.runId);
    await settle(second.runId);
  });

  it("a deleted workflow is not found by its triggers, and its runs stay readable", async () => {
    await register(definition("life-deleted", [{ type: "webhook" }]));
    const started = (await (await hook("life-deleted", { b: 1 })).json()) as { runId: string };
    await settle(started.runId);
    await api("/api/workflows/life-deleted", { method: "DELETE" });

    await expectError(await hook("life-deleted", { b: 2 }), 404, "workflow.not_found");
    await expectError(
      await api("/api/workflows/life-deleted/runs", { method: "POST", json: { input: {} } }),
      404,
      "workflow.not_found",
    );
    expect((await api(`/api/runs/${started.runId}`)).status).toBe(200);
    expect(await runIdsOf("life-deleted")).toEqual([started.runId]);
  });

  it("answers 404 for disabling, enabling or deleting a workflow that does not exist", async () => {
    for (const [method, path] of [
      ["POST", "/api/workflows/life-nothing/disable"],
      ["POST", "/api/workflows/life-nothing/enable"],
      ["DELETE", "/api/workflows/life-nothing"],
      ["GET", "/api/workflows/life-nothing/schedule"],
    ] as const) {
      await expectError(await api(path, { method }), 404, "workflow.not_found");
    }
  });

  it("answers 404 schedule.not_found for a workflow without a schedule trigger", async () => {
    await register(definition("life-no-schedule", [{ type: "manual" }]));
    await expectError(await api("/api/workflows/life-no-schedule/schedule"), 404, "schedule.not_found");
  });
});
