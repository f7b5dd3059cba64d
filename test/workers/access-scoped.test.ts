import { beforeAll, describe, expect, it } from "vitest";
import { asKey, makeKey } from "./access-support";
import { api, register, settle, startManual } from "./helpers";
import { expectError } from "./support";

const definition = (id: string, triggers: unknown[] = [{ type: "manual" }]) => ({
  id,
  name: id,
  triggers,
  nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
  edges: [],
});

interface RunList {
  runs: { runId: string; workflowId: string }[];
}

describe("keys limited to some workflows", () => {
  let mineRun = "";
  let otherRun = "";

  beforeAll(async () => {
    await register(definition("scope-mine", [{ type: "manual" }, { type: "event", name: "scope.ping" }]));
    await register(definition("scope-other", [{ type: "manual" }, { type: "event", name: "scope.ping" }]));
    mineRun = await startManual("scope-mine");
    otherRun = await startManual("scope-other");
    await settle(mineRun);
    await settle(otherRun);
  });

  it("lists only the key's workflows and runs, and answers 404 for the others as if absent", async () => {
    const viewer = await makeKey({ name: "scoped viewer", role: "viewer", workflows: ["scope-mine"] });
    const workflows = (await (await asKey(viewer.key, "/api/workflows")).json()) as {
      workflows: { workflowId: string }[];
    };
    expect(workflows.workflows.map((row) => row.workflowId)).toEqual(["scope-mine"]);
    // The unlimited API_TOKEN sees both, so the filter is the key's doing.
    const all = (await (await api("/api/workflows")).json()) as { workflows: { workflowId: string }[] };
    expect(all.workflows.map((row) => row.workflowId)).toEqual(expect.arrayContaining(["scope-mine", "scope-other"]));

    const runs = (await (await asKey(viewer.key, "/api/runs?limit=100")).json()) as RunList;
    expect(runs.runs.map((run) => run.runId)).toContain(mineRun);
    expect(new Set(runs.runs.map((run) => run.workflowId))).toEqual(new Set(["scope-mine"]));
    const asked = (await (await asKey(viewer.key, "/api/runs?workflow=scope-other")).json()) as RunList;
    expect(asked.runs).toEqual([]);

    expect((await asKey(viewer.key, "/api/workflows/scope-mine")).status).toBe(200);
    await expectError(await asKey(viewer.key, "/api/workflows/scope-other"), 404, "workflow.not_found");
    expect((await asKey(viewer.key, `/api/runs/${mineRun}`)).status).toBe(200);
    await expectError(await asKey(viewer.key, `/api/runs/${otherRun}`), 404, "run.not_found");
    await expectError(await asKey(viewer.key, `/api/runs/${otherRun}/context`), 404, "run.not_found");
  });

  it("refuses views across workflows to a limited key with the permission it used", async () => {
    const viewer = await makeKey({ name: "scoped viewer 2", role: "operator", workflows: ["scope-mine"] });
    for (const path of ["/api/metrics", "/api/dead-letters", "/api/outbox", "/api/email/rejections"]) {
      const body = await expectError(await asKey(viewer.key, path), 403, "auth.forbidden");
      expect(body.error.details).toMatchObject({ workflows: ["scope-mine"] });
    }
    const bulk = await asKey(viewer.key, "/api/runs/bulk", {
      method: "POST",
      json: { action: "cancel", filter: { workflow: "scope-mine" }, dryRun: true },
    });
    const body = await expectError(bulk, 403, "auth.forbidden");
    expect(body.error.details).toMatchObject({ permission: "runs.act" });
    // Acting on its own workflow's run is allowed; on another's it is as if the run did not exist.
    await expectError(
      await asKey(viewer.key, `/api/runs/${mineRun}/cancel`, { method: "POST" }),
      409,
      "run.not_active",
    );
    await expectError(
      await asKey(viewer.key, `/api/runs/${otherRun}/cancel`, { method: "POST" }),
      404,
      "run.not_found",
    );
  });

  it("lets a trigger key start its workflows and publish events only to them, and read nothing", async () => {
    const trigger = await makeKey({ name: "ci", role: "trigger", workflows: ["scope-mine"] });
    const started = await asKey(trigger.key, "/api/workflows/scope-mine/runs", { method: "POST", json: { input: {} } });
    expect(started.status).toBe(202);
    await settle(((await started.json()) as { runId: string }).runId);
    await expectError(
      await asKey(trigger.key, "/api/workflows/scope-other/runs", { method: "POST", json: { input: {} } }),
      404,
      "workflow.not_found",
    );
    const published = await asKey(trigger.key, "/api/events", { method: "POST", json: { name: "scope.ping" } });
    expect(published.status).toBe(202);
    const { runs } = (await published.json()) as { runs: { workflowId: string; status: string }[] };
    expect(runs.map((run) => run.workflowId)).toEqual(["scope-mine"]);
    // The same event from the API_TOKEN reaches both subscribers.
    const everyone = await api("/api/events", { method: "POST", json: { name: "scope.ping" } });
    const reached = (await everyone.json()) as { runs: { workflowId: string }[] };
    expect(reached.runs.map((run) => run.workflowId).sort()).toEqual(["scope-mine", "scope-other"]);

    const read = await expectError(await asKey(trigger.key, `/api/runs/${mineRun}`), 403, "auth.forbidden");
    expect(read.error.details).toMatchObject({ permission: "runs.read", role: "trigger" });
  });
});
