import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DryRunReport } from "../../src/run/dry-run";
import { api, register } from "./helpers";
import { countRuns, expectError, testServer } from "./support";

/** lookup (http) -> route (branch on lookup) -> approve (human) | auto (transform) -> notify (http) -> nap (wait 2d) */
function order(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      {
        id: "lookup",
        type: "http",
        config: { url: `${testServer.url}/${id}/customers/{{ input.customer }}`, output: "customer", map: "body" },
      },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "customer.vip = true", to: "approve" }], default: "auto" },
      },
      {
        id: "approve",
        type: "human",
        config: {
          to: ["boss@x.test"],
          subject: "Approve {{ input.customer }}?",
          body: "Please",
          expiresIn: "1d",
          output: "approval",
        },
      },
      { id: "auto", type: "transform", config: { set: { approval: "{ 'decision': 'auto' }" } } },
      {
        id: "notify",
        type: "http",
        config: {
          method: "POST",
          url: `${testServer.url}/${id}/notify`,
          body: "{ 'd': approval.decision }",
          output: "sent",
          map: "status",
        },
      },
      { id: "nap", type: "wait", config: { duration: "2d" } },
    ],
    edges: [
      { from: "lookup", to: "route" },
      { from: "route", to: "approve" },
      { from: "route", to: "auto" },
      { from: "approve", to: "notify" },
      { from: "auto", to: "notify" },
      { from: "notify", to: "nap" },
    ],
    ...extra,
  };
}

async function test(id: string, body: unknown): Promise<Response> {
  return api(`/api/workflows/${id}/test`, { method: "POST", json: body });
}

async function outboxCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS count FROM email_outbox").first<{ count: number }>();
  return row?.count ?? 0;
}

describe("POST /api/workflows/:id/test", () => {
  it("runs the whole DAG on mocks and virtual time, with no side effect and no record", async () => {
    const id = "dry-order";
    await register(order(id));
    const emails = await outboxCount();
    const response = await test(id, {
      input: { customer: "c-1" },
      mocks: { approve: { review: { decision: "approve", comment: "fine" } } },
      http: [
        { url: `${testServer.url}/${id}/customers/c-1`, body: { vip: true, name: "Ada" } },
        { method: "POST", url: `${testServer.url}/${id}/*`, status: 201 },
      ],
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as DryRunReport;
    expect(report.dryRun).toBe(true);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({
      customer: { vip: true, name: "Ada" },
      approval: { decision: "approve", by: "boss@x.test", comment: "fine" },
      sent: 201,
      // What a real run on this server would see (PUBLIC_URL in vitest.workers.config.ts).
      run: { publicUrl: "http://signalbox.test", dryRun: true },
    });
    expect(report.steps.map((step) => [step.nodeId, step.status])).toEqual([
      ["lookup", "success"],
      ["route", "success"],
      ["approve", "success"],
      ["auto", "skipped"],
      ["notify", "success"],
      ["nap", "success"],
    ]);
    expect(report.calls).toEqual([
      expect.objectContaining({ nodeId: "lookup", method: "GET", status: 200, mocked: true }),
      expect.objectContaining({ nodeId: "notify", method: "POST", status: 201, mocked: true }),
    ]);
    expect(report.emails).toEqual([
      { nodeId: "approve", attempt: 1, round: 1, purpose: "request", to: ["boss@x.test"] },
    ]);
    expect(report.mocked).toEqual([{ nodeId: "approve", attempt: 1, what: "review" }]);
    // Two days of sleep took no time.
    expect(report.skippedMs).toBeGreaterThanOrEqual(2 * 86_400_000 - 1_000);
    // Nothing left the dry run: no request, no email, no run in D1.
    expect(await testServer.requests(`/${id}/customers/c-1`)).toHaveLength(0);
    expect(await testServer.requests(`/${id}/notify`)).toHaveLength(0);
    expect(await outboxCount()).toBe(emails);
    expect(await countRuns(id)).toBe(0);
  });

  it("takes mocked outputs per node, mocked failures with the node's retry policy, and fails unmocked requests", async () => {
    const id = "dry-mocks";
    await register(order(id));
    const mocked = (await (
      await test(id, {
        input: { customer: "c-2" },
        mocks: {
          lookup: { output: { customer: { vip: false } } },
          notify: [{ error: { code: "node.http_status", retryable: true } }, { output: { sent: 204 } }],
        },
      })
    ).json()) as DryRunReport;
    expect(mocked.status).toBe("success");
    expect(mocked.context).toMatchObject({ customer: { vip: false }, approval: { decision: "auto" }, sent: 204 });
    const notify = mocked.steps.find((step) => step.nodeId === "notify");
    expect(notify?.history.map((entry) => [entry.outcome, entry.errorCode])).toEqual([
      ["failure", "node.http_status"],
      ["success", null],
    ]);
    expect(mocked.calls).toEqual([]);

    const unmocked = (await (await test(id, { input: { customer: "c-3" } })).json()) as DryRunReport;
    expect(unmocked.status).toBe("failed");
    expect(unmocked.error).toMatchObject({ code: "dryrun.unmocked_request", nodeId: "lookup" });
    expect(unmocked.calls).toEqual([expect.objectContaining({ nodeId: "lookup", mocked: false, status: null })]);
    expect(await testServer.requests(`/${id}/customers/c-3`)).toHaveLength(0);
  });

  it("tests a draft that was never registered, and its own test cases in one call", async () => {
    const id = "dry-draft";
    const definition = order(id, {
      tests: [
        {
          name: "vip goes to a person",
          input: { customer: "v" },
          mocks: {
            lookup: { output: { customer: { vip: true } } },
            approve: { review: { decision: "reject" } },
            notify: { output: { sent: 200 } },
          },
          expect: {
            status: "success",
            context: { approval: { decision: "reject" } },
            steps: { auto: "skipped" },
            assert: ["sent = 200"],
          },
        },
        {
          name: "wrong on purpose",
          input: { customer: "n" },
          mocks: { lookup: { output: { customer: { vip: false } } }, notify: { output: { sent: 200 } } },
          expect: { status: "failed", context: { approval: { decision: "approve" } }, assert: ["sent = 500"] },
        },
      ],
    });
    const single = await test(id, {
      definition,
      input: { customer: "v" },
      mocks: { lookup: { output: { customer: { vip: false } } }, notify: { output: { sent: 200 } } },
    });
    expect(single.status).toBe(200);
    expect(((await single.json()) as DryRunReport).status).toBe("success");

    const suite = await test(id, { definition, tests: true });
    expect(suite.status).toBe(200);
    const results = (await suite.json()) as {
      version: number;
      passed: number;
      failed: number;
      results: { name: string; passed: boolean; failures: { check: string }[] }[];
    };
    expect(results).toMatchObject({ version: 0, passed: 1, failed: 1 });
    expect(results.results.map((result) => [result.name, result.passed])).toEqual([
      ["vip goes to a person", true],
      ["wrong on purpose", false],
    ]);
    expect(results.results[1]?.failures.map((failure) => failure.check)).toEqual([
      "status",
      "context.approval",
      "assert",
    ]);
    // Still nothing registered.
    await expectError(await api(`/api/workflows/${id}`), 404, "workflow.not_found");

    await register(definition);
    const one = (await (await test(id, { tests: ["vip goes to a person"] })).json()) as {
      passed: number;
      failed: number;
    };
    expect(one).toMatchObject({ passed: 1, failed: 0 });
  });

  it("runs an llm node on mocked model answers: no model is called, the node's repair and cost rules apply", async () => {
    const id = "dry-llm";
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "classify",
          type: "llm",
          config: {
            model: "mock-model",
            prompt: "Classify: {{ input.text }}",
            schema: { type: "object", required: ["priority"], properties: { priority: { enum: ["high", "low"] } } },
            output: "analysis",
          },
        },
      ],
    });
    const response = await test(id, {
      input: { text: "The site is down" },
      llm: [
        { node: "classify", text: "HIGH!", usage: { input: 10, output: 2 } },
        { node: "classify", json: { priority: "high" }, usage: { input: 20, output: 5 } },
      ],
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as DryRunReport;
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.analysis).toEqual({ priority: "high" });
    expect(report.llmCalls).toEqual([
      { nodeId: "classify", attempt: 1, provider: "default", model: "mock-model", mocked: true },
      { nodeId: "classify", attempt: 1, provider: "default", model: "mock-model", mocked: true },
    ]);
    const step = report.steps.find((entry) => entry.nodeId === "classify");
    expect(step?.llm?.calls.map((call) => [call.purpose, call.outcome])).toEqual([
      ["request", "invalid_json"],
      ["repair", "ok"],
    ]);
    expect(report.llm).toMatchObject({ calls: 2, totalTokens: 37 });

    // Without llm answers or a mock of the node, the node is not executed.
    const unmocked = (await (await test(id, { input: { text: "x" } })).json()) as DryRunReport;
    expect(unmocked.error).toMatchObject({ code: "dryrun.mock_missing", nodeId: "classify" });
    await expectError(await test(id, { llm: [{ node: "nope", text: "x" }] }), 422, "dryrun.mock_invalid");
    await expectError(await test(id, { llm: [{ node: "classify" }] }), 422, "dryrun.mock_invalid");
  });

  it("mocks nodes a dry run must not execute, and refuses bad requests with stable codes", async () => {
    const id = "dry-codes";
    await register(order(id));
    await expectError(await test("dry-nothing", {}), 404, "workflow.not_found");
    await expectError(await test(id, { version: 7 }), 404, "workflow.version_not_found");
    await expectError(await test(id, { mocks: { ghost: { output: {} } } }), 422, "dryrun.mock_invalid");
    await expectError(await test(id, { mocks: { lookup: { output: 5 } } }), 422, "dryrun.mock_invalid");
    await expectError(
      await test(id, { mocks: { lookup: { error: { code: "made.up" } } } }),
      422,
      "dryrun.mock_invalid",
    );
    await expectError(await test(id, { mocks: { route: { route: ["nap"] } } }), 422, "dryrun.mock_invalid");
    await expectError(await test(id, { http: [{ status: 200 }] }), 422, "dryrun.mock_invalid");
    await expectError(await test(id, { tests: ["none such"] }), 400, "request.invalid");
    await expectError(await test(id, { definition: { ...order("other"), id: "other" } }), 400, "request.invalid");
    const invalid = await test(id, {
      definition: { ...order(id), edges: [{ from: "nap", to: "lookup" }, ...order(id).edges] },
    });
    expect(invalid.status).toBe(422);
    const registered = await api("/api/workflows", {
      method: "POST",
      json: order("dry-bad-tests", { tests: [{ name: "t", mocks: { ghost: { output: {} } } }] }),
    });
    await expectError(registered, 422, "definition.unknown_node");
  });
});

describe("dry runs of steps with child runs", () => {
  it("runs a map's items as child dry runs, with the same mocks reaching their http nodes", async () => {
    const id = "dry-map";
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "input.ids",
            body: {
              nodes: [
                {
                  id: "fetch",
                  type: "http",
                  config: { url: `${testServer.url}/${id}/{{ input }}`, output: "got", map: "body" },
                },
              ],
              output: "got.n",
            },
            concurrency: 2,
            output: "results",
          },
        },
        { id: "sum", type: "transform", config: { set: { total: "$sum(results)" } } },
      ],
      edges: [{ from: "each", to: "sum" }],
    });
    const response = await test(id, {
      input: { ids: ["a", "b", "c"] },
      http: [
        { url: `${testServer.url}/${id}/a`, body: { n: 1 } },
        { url: `${testServer.url}/${id}/b`, body: { n: 2 } },
        { url: `${testServer.url}/${id}/c`, body: { n: 3 } },
      ],
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as DryRunReport;
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.results).toEqual([1, 2, 3]);
    expect(report.context.total).toBe(6);
    expect(report.steps[0]?.children).toMatchObject({
      mode: "map",
      phase: "done",
      total: 3,
      succeeded: 3,
      maxRunning: 2,
    });
    expect(report.calls.map((call) => [call.nodeId, call.url, call.mocked]).sort()).toEqual([
      ["fetch", `${testServer.url}/${id}/a`, true],
      ["fetch", `${testServer.url}/${id}/b`, true],
      ["fetch", `${testServer.url}/${id}/c`, true],
    ]);
    expect(report.mocked).toEqual([]);
    // Child dry runs are in memory too: no run object, no D1 row.
    expect(await countRuns(id)).toBe(0);
    expect(await countRuns(`${id}/each`)).toBe(0);
  });

  it("fails a map item whose child fails, as a run does, without mocking the map", async () => {
    const id = "dry-map-fail";
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "input.items",
            body: {
              nodes: [
                {
                  id: "work",
                  type: "transform",
                  config: { set: { value: `input = 2 ? $error("item 2 broke") : input * 2` } },
                },
              ],
              output: "value",
            },
            concurrency: 1,
            output: "out",
          },
        },
      ],
    });
    const report = (await (await test(id, { input: { items: [0, 1, 2, 3] } })).json()) as DryRunReport;
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "map.item_failed", nodeId: "each", details: { index: 2 } });
  });

  it("runs a loop's iterations one after another until its condition holds", async () => {
    const id = "dry-loop";
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "again",
          type: "loop",
          config: {
            body: {
              nodes: [{ id: "step", type: "transform", config: { set: { value: "input.iteration * 10" } } }],
              output: "value",
            },
            until: "last >= 30",
            maxIterations: 10,
            output: "loop",
          },
        },
      ],
    });
    const report = (await (await test(id, {})).json()) as DryRunReport;
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.loop).toEqual({ iterations: 3, last: 30 });
    expect(report.steps[0]?.children).toMatchObject({ mode: "loop", total: 3, succeeded: 3, maxRunning: 1 });
  });

  it("runs the stored version a subworkflow calls as a child dry run", async () => {
    await register({
      id: "dry-callee",
      name: "callee",
      nodes: [{ id: "double", type: "transform", config: { set: { value: "input.n * 2" } } }],
      output: "value",
    });
    const id = "dry-caller";
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "call",
          type: "subworkflow",
          config: { workflow: "dry-callee", input: "{'n': input.n}", output: "result" },
        },
      ],
    });
    const report = (await (await test(id, { input: { n: 21 } })).json()) as DryRunReport;
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.result).toBe(42);
    expect(report.steps[0]?.children).toMatchObject({ mode: "subworkflow", total: 1, succeeded: 1 });
  });

  it("holds a step's output to the context's size limit, as a run does", async () => {
    const id = "dry-too-large";
    await register({
      id,
      name: id,
      nodes: [{ id: "big", type: "transform", config: { set: { blob: "$pad('', 11 * 1024 * 1024, 'x')" } } }],
    });
    const report = (await (await test(id, {})).json()) as DryRunReport;
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "context.too_large", nodeId: "big" });
  });
});
