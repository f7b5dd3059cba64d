import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";
import {
  getReport,
  type Harness,
  registerWorkflow,
  step,
  type TestServer,
  uniqueId,
  useHarness,
  waitFor,
  waitForRunEnd,
} from "./harness";

let harness: Harness;
let testServer: TestServer;
useHarness((started, server) => {
  harness = started;
  testServer = server;
});

function ticketWorkflow(id: string) {
  return {
    id,
    name: "e2e webhook triage",
    triggers: [
      {
        type: "webhook",
        dedup: { window: "5m" },
        schema: { type: "object", required: ["id", "severity"] },
      },
    ],
    nodes: [
      { id: "classify", type: "transform", config: { set: { priority: "input.severity >= 3 ? 'high' : 'low'" } } },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "priority = 'high'", to: "notify" }], default: "ignore" },
      },
      {
        id: "notify",
        type: "http",
        config: {
          method: "POST",
          url: `${testServer.url}/notify/{{ input.id }}`,
          body: "{ 'ticket': input.id, 'priority': priority }",
          output: "notified",
          map: "body",
        },
      },
      { id: "ignore", type: "transform", config: { set: { ignored: "true" } } },
      { id: "done", type: "log", config: { message: "ticket {{ input.id }} is {{ priority }}" } },
    ],
    edges: [
      { from: "classify", to: "route" },
      { from: "route", to: "notify" },
      { from: "route", to: "ignore" },
      { from: "notify", to: "done" },
      { from: "ignore", to: "done" },
    ],
  };
}

describe("webhook trigger against wrangler dev", () => {
  it("dedups a repeated delivery, runs the taken branch once and lists the run", async () => {
    const workflowId = uniqueId("e2e-webhook");
    await registerWorkflow(harness, ticketWorkflow(workflowId));
    const payload = JSON.stringify({ id: "T-42", severity: 4 });
    const deliver = () =>
      fetch(`${harness.baseUrl}/hooks/${workflowId}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: payload,
      });

    const first = await deliver();
    expect(first.status).toBe(202);
    const queued = (await first.json()) as { runId: string; status: string };
    expect(queued.status).toBe("queued");
    expect(queued.runId).toMatch(/^run_[0-9a-z]{26}$/);

    const second = await deliver();
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ runId: queued.runId, status: "duplicate" });

    const report = await waitForRunEnd(harness, queued.runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.workflowId).toBe(workflowId);
    expect(report.steps.map((entry) => [entry.nodeId, entry.status])).toEqual([
      ["classify", "success"],
      ["route", "success"],
      ["notify", "success"],
      ["ignore", "skipped"],
      ["done", "success"],
    ]);
    for (const entry of report.steps.filter((candidate) => candidate.status === "success")) {
      expect(entry.attempts, entry.nodeId).toBe(1);
      expect(entry.startedAt, entry.nodeId).toEqual(expect.any(Number));
      expect(entry.endedAt, entry.nodeId).toBeGreaterThanOrEqual(entry.startedAt ?? Number.POSITIVE_INFINITY);
    }
    expect(step(report, "ignore").attempts).toBe(0);
    expect(report.context.notified).toMatchObject({ ok: true, body: { ticket: "T-42", priority: "high" } });

    const calls = testServer.requests.filter((request) => request.path.startsWith("/notify/"));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.path).toBe("/notify/T-42");
    expect(calls[0]?.headers["idempotency-key"]).toBe(`${queued.runId}:notify:1`);
    expect(JSON.parse(calls[0]?.body ?? "null")).toEqual({ ticket: "T-42", priority: "high" });

    // The list is read from D1, which the run's checkpoints reach a little behind the run.
    const listed = await waitFor(
      "the run to be listed as success",
      async () => {
        const response = await harness.api(`/api/runs?workflow=${workflowId}`);
        const body = (await response.json()) as { runs: { runId: string; status: string; workflowId: string }[] };
        const entry = body.runs.find((run) => run.runId === queued.runId);
        return entry?.status === "success" ? body : undefined;
      },
      { harness },
    );
    expect(listed.runs).toHaveLength(1);
    expect(listed.runs[0]).toMatchObject({ runId: queued.runId, workflowId, status: "success" });
  });

  it("starts a new run for a different payload and takes the other branch", async () => {
    const workflowId = uniqueId("e2e-webhook");
    await registerWorkflow(harness, ticketWorkflow(workflowId));
    const response = await fetch(`${harness.baseUrl}/hooks/${workflowId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "T-7", severity: 1 }),
    });
    expect(response.status).toBe(202);
    const { runId } = (await response.json()) as { runId: string };
    const report = await waitForRunEnd(harness, runId);
    expect(report.status).toBe("success");
    expect(step(report, "notify").status).toBe("skipped");
    expect(step(report, "ignore").status).toBe("success");
    expect(testServer.requests.filter((request) => request.path === "/notify/T-7")).toHaveLength(0);
    expect((await getReport(harness, runId)).context.ignored).toBe(true);
  });

  it("rejects a payload that does not match the trigger's schema", async () => {
    const workflowId = uniqueId("e2e-webhook");
    await registerWorkflow(harness, ticketWorkflow(workflowId));
    const response = await fetch(`${harness.baseUrl}/hooks/${workflowId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ severity: 1 }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: { code: "run.input_invalid" } });
  });

  it("fails an LLM step at once with llm.not_configured when no provider is set, as `npm run dev` does", async () => {
    // This server has no LLM_BASE_URL: the support-ticket example's analyze step cannot run.
    const example = JSON.parse(await readFile(join(projectRoot, "workflows", "support-ticket.json"), "utf8"));
    const workflowId = uniqueId("e2e-no-llm");
    await registerWorkflow(harness, { ...example, id: workflowId });
    const response = await fetch(`${harness.baseUrl}/hooks/${workflowId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(example.triggers[0].schema.examples[0]),
    });
    expect(response.status).toBe(202);
    const { runId } = (await response.json()) as { runId: string };
    const report = await waitForRunEnd(harness, runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "llm.not_configured", nodeId: "analyze", retryable: false });
    expect((report.error as { message: string }).message).toContain("LLM_BASE_URL");
    expect(step(report, "analyze").attempts).toBe(1);
  });
});
