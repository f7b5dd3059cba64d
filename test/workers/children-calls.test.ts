import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStub } from "../../src/triggers/start-run";
import { reportOf, settleTree } from "./children-helpers";
import { api, register, startManual } from "./helpers";
import { expectError } from "./support";

const leaf = (id: string, answer: string) => ({
  id,
  name: id,
  nodes: [{ id: "answer", type: "transform", config: { set: { answer: `'${answer}'` } } }],
  output: "{'answer': answer, 'x': input.x}",
});

const calling = (id: string, workflow: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  nodes: [{ id: "call", type: "subworkflow", config: { workflow, output: "result", ...extra } }],
});

describe("loop", () => {
  const body = {
    nodes: [{ id: "step", type: "transform", config: { set: { value: "input.iteration * 10" } } }],
    output: "value",
  };

  it("runs iterations one after another until its condition holds", async () => {
    await register({
      id: "loop-until",
      name: "Loop",
      nodes: [{ id: "again", type: "loop", config: { body, until: "last >= 30", maxIterations: 10, output: "loop" } }],
    });
    const runId = await startManual("loop-until");
    const report = await settleTree(runId);
    expect(report.status).toBe("success");
    expect(report.context.loop).toEqual({ iterations: 3, last: 30 });
    expect(report.steps[0]?.children).toMatchObject({ mode: "loop", total: 3, succeeded: 3, maxRunning: 1 });
    expect((await reportOf(`${runId}.again.1.2`)).input).toEqual({ iteration: 3, last: 20 });
  });

  it("builds each iteration's input from the one before", async () => {
    await register({
      id: "loop-input",
      name: "Loop",
      nodes: [
        {
          id: "again",
          type: "loop",
          config: {
            body: {
              nodes: [{ id: "add", type: "transform", config: { set: { n: "input.n + input.step" } } }],
              output: "n",
            },
            input: "{'n': last ? last : 0, 'step': input.step}",
            until: "last >= 7",
            maxIterations: 10,
            output: "loop",
          },
        },
      ],
    });
    const report = await settleTree(await startManual("loop-input", { step: 2 }));
    expect(report.context.loop).toEqual({ iterations: 4, last: 8 });
  });

  it("fails with loop.max_iterations when its condition never holds", async () => {
    await register({
      id: "loop-max",
      name: "Loop",
      nodes: [{ id: "again", type: "loop", config: { body, until: "false", maxIterations: 3, output: "loop" } }],
    });
    const report = await settleTree(await startManual("loop-max"));
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "loop.max_iterations", retryable: false, nodeId: "again" });
    expect(report.steps[0]?.children).toMatchObject({ succeeded: 3, phase: "failed" });
  });
});

describe("subworkflow", () => {
  it("runs the pinned version or the latest one, with the input it maps, and writes the child's output", async () => {
    await register(leaf("sub-target", "v1"));
    await register(leaf("sub-target", "v2"));
    await register({
      id: "sub-caller",
      name: "Caller",
      nodes: [
        {
          id: "pinned",
          type: "subworkflow",
          config: { workflow: "sub-target", version: 1, input: "{'x': input.x}", output: "pinned" },
        },
        {
          id: "latest",
          type: "subworkflow",
          config: { workflow: "sub-target", input: "{'x': input.x}", output: "latest" },
        },
      ],
    });
    const runId = await startManual("sub-caller", { x: 7 });
    const report = await settleTree(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ pinned: { answer: "v1", x: 7 }, latest: { answer: "v2", x: 7 } });
    expect(report.output).toEqual({ pinned: { answer: "v1", x: 7 }, latest: { answer: "v2", x: 7 } });
    expect(await reportOf(`${runId}.latest.1.0`)).toMatchObject({ workflowId: "sub-target", version: 2 });
    // Children are runs in D1 too, listed by parent.
    // Children checkpoint to D1 behind themselves, like every run.
    for (const node of ["pinned", "latest"]) await runStub(env, `${runId}.${node}.1.0`).idle();
    const listed = (await (await api(`/api/runs?parent=${runId}`)).json()) as { runs: { runId: string }[] };
    expect(listed.runs.map((run) => run.runId).sort()).toEqual([`${runId}.latest.1.0`, `${runId}.pinned.1.0`]);
  });

  it("runs nest 5 levels deep: the step that would start a 6th fails with subworkflow.depth_exceeded", async () => {
    await register(leaf("depth-6", "bottom"));
    for (let level = 5; level >= 1; level -= 1) await register(calling(`depth-${level}`, `depth-${level + 1}`));
    const runId = await startManual("depth-1");
    const report = await settleTree(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "subworkflow.failed" });
    const fourth = await reportOf(`${runId}${".call.1.0".repeat(3)}`);
    expect(fourth).toMatchObject({ workflowId: "depth-4", status: "failed", parent: { depth: 4 } });
    expect(fourth.context.run).toMatchObject({ depth: 4 });
    const fifth = `${runId}${".call.1.0".repeat(4)}`;
    const deepest = await reportOf(fifth);
    // The run at the limit is level 5 in its context, its report and the error alike.
    expect(deepest).toMatchObject({ workflowId: "depth-5", parent: { depth: 5 } });
    expect(deepest.context.run).toMatchObject({ depth: 5 });
    expect(deepest.error).toMatchObject({
      code: "subworkflow.depth_exceeded",
      retryable: false,
      message: "runs nest at most 5 levels deep; this run is level 5",
      details: { level: 5, maxLevels: 5 },
    });
    expect(await runStub(env, `${fifth}.call.1.0`).report()).toBeNull();
  });

  it("cancelling a parent cancels its children, and theirs", async () => {
    await register({
      id: "cancel-waiter",
      name: "Waiter",
      nodes: [{ id: "wait", type: "wait", config: { event: "go", timeout: "1h" } }],
    });
    await register(calling("cancel-middle", "cancel-waiter"));
    await register({
      id: "cancel-top",
      name: "Top",
      nodes: [
        {
          id: "each",
          type: "map",
          config: { items: "[1, 2]", body: { workflow: "cancel-middle" }, output: "out" },
        },
      ],
    });
    const runId = await startManual("cancel-top");
    const waiting = await settleTree(runId);
    expect(waiting.status).toBe("waiting");
    const leaves = [0, 1].map((index) => `${runId}.each.1.${index}.call.1.0`);
    for (const id of leaves) expect((await reportOf(id)).status).toBe("waiting");

    expect((await api(`/api/runs/${runId}/cancel`, { method: "POST" })).status).toBe(200);
    await runStub(env, runId).idle();
    for (const index of [0, 1]) await runStub(env, `${runId}.each.1.${index}`).idle();
    expect((await reportOf(runId)).status).toBe("cancelled");
    for (const index of [0, 1]) expect((await reportOf(`${runId}.each.1.${index}`)).status).toBe("cancelled");
    for (const id of leaves) expect((await reportOf(id)).status).toBe("cancelled");
  });
});

describe("registration", () => {
  it.each([
    ["A -> A", [], calling("self-call", "self-call"), "self-call -> self-call"],
    [
      "A -> B -> A (through a map body)",
      [leaf("cycle-a", "one"), calling("cycle-b", "cycle-a")],
      {
        id: "cycle-a",
        name: "A",
        nodes: [{ id: "each", type: "map", config: { items: "[1]", body: { workflow: "cycle-b" }, output: "o" } }],
      },
      "cycle-a -> cycle-b -> cycle-a",
    ],
  ])("rejects a cycle of workflows: %s, and stores nothing", async (_name, before, definition, cycle) => {
    for (const earlier of before) await register(earlier);
    const response = await api("/api/workflows", { method: "POST", json: definition });
    const body = await expectError(response, 422, "definition.workflow_cycle");
    expect(body.error.message).toContain(cycle);
    const stored = await api(`/api/workflows/${definition.id}`);
    if (before.length === 0) expect(stored.status).toBe(404);
    else expect(((await stored.json()) as { version: number }).version).toBe(1);
  });

  it.each([
    ["an unknown workflow", calling("calls-nothing", "no-such-workflow")],
    ["a version that does not exist", calling("calls-v9", "sub-missing-version", { version: 9 })],
  ])("rejects a call to %s", async (_name, definition) => {
    await register(leaf("sub-missing-version", "v1"));
    const response = await api("/api/workflows", { method: "POST", json: definition });
    const body = await expectError(response, 422, "definition.workflow_not_found");
    expect(body.error.details).toMatchObject({ issues: [{ path: ["nodes", 0, "config", "workflow"] }] });
    expect((await api(`/api/workflows/${definition.id}`)).status).toBe(404);
  });
});
