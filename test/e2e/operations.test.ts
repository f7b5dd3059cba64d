import { describe, expect, it } from "vitest";
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

function orderFlow(id: string, chargePath: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "webhook" }],
    nodes: [
      {
        id: "reserve",
        type: "http",
        config: { method: "POST", url: `${testServer.url}/${id}/reserve`, output: "reserved" },
      },
      {
        id: "charge",
        type: "http",
        config: { method: "POST", url: `${testServer.url}${chargePath}`, output: "charged" },
        retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "200ms" },
      },
      { id: "receipt", type: "log", config: { message: "order {{ input.order }} charged" } },
    ],
    edges: [
      { from: "reserve", to: "charge" },
      { from: "charge", to: "receipt" },
    ],
  };
}

const post = (path: string, body?: unknown) =>
  harness.api(path, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe("a step failed at 3 a.m. (docs/operations.md), under wrangler dev", () => {
  it("finds the failure, dry-runs the fix, retries with it, and the metrics and logs tell the story", async () => {
    const id = uniqueId("e2e-ops");
    await registerWorkflow(harness, orderFlow(id, "/status/500"));
    const hook = await harness.api(`/hooks/${id}`, { method: "POST", body: JSON.stringify({ order: "A-1" }) });
    const { runId } = (await hook.json()) as { runId: string };
    const failed = await waitForRunEnd(harness, runId);
    expect(failed.status).toBe("failed");
    expect(step(failed, "charge").history.map((entry) => entry.errorCode)).toEqual([
      "node.http_status",
      "node.http_status",
    ]);

    // 1. What is dead, and why.
    const letters = await waitFor(
      "the dead letter",
      async () => {
        const body = (await (await harness.api(`/api/dead-letters?workflow=${id}`)).json()) as {
          count: number;
          deadLetters: { runId: string; nodes: { nodeId: string; error: { code: string } }[] }[];
        };
        return body.count === 1 ? body : undefined;
      },
      { harness },
    );
    expect(letters.deadLetters[0]).toMatchObject({
      runId,
      nodes: [{ nodeId: "charge", error: { code: "node.http_status" } }],
    });

    // 2. The fix, tried before it goes live: a dry run of the new definition sends nothing.
    const fixed = orderFlow(id, `/${id}/charge`);
    const dry = await post(`/api/workflows/${id}/test`, {
      definition: fixed,
      input: { order: "A-1" },
      http: [{ url: `${testServer.url}/${id}/*`, status: 200, body: { ok: true } }],
    });
    expect(dry.status).toBe(200);
    expect(((await dry.json()) as { status: string }).status).toBe("success");
    expect(testServer.requests.filter((request) => request.path === `/${id}/charge`)).toHaveLength(0);

    // 3. Register it and retry the run on it: the reservation is not made twice.
    await registerWorkflow(harness, fixed);
    const retried = await post(`/api/runs/${runId}/retry`, { version: "latest" });
    expect(retried.status).toBe(200);
    const done = await waitForRunEnd(harness, runId);
    expect(done).toMatchObject({ status: "success", version: 2 });
    expect(testServer.requests.filter((request) => request.path === `/${id}/reserve`)).toHaveLength(1);
    expect(testServer.requests.filter((request) => request.path === `/${id}/charge`)).toHaveLength(1);

    // 4. Metrics see it: Prometheus text for the workflow.
    const text = await waitFor(
      "metrics with the run's success",
      async () => {
        const response = await harness.api(`/api/metrics?window=1h&workflow=${id}`, {
          headers: { accept: "text/plain" },
        });
        const body = await response.text();
        return body.includes(`signalbox_runs{workflow="${id}",status="success"} 1`) ? body : undefined;
      },
      { harness },
    );
    expect(text).toContain("# TYPE signalbox_step_duration_ms summary");
    expect(text).toContain(`signalbox_step_retries{workflow="${id}",node="charge"} 2`);

    // 5. The logs carry the trace: a span per attempt and one for the run, under the run's trace id.
    const report = await getReport(harness, runId);
    type Span = { traceId: string; parentSpanId: string | null; attributes: Record<string, unknown> };
    const spans = await waitFor(
      "span lines in the log",
      async () => {
        const found = harness
          .logTail(2_000)
          .split("\n")
          .filter((line) => line.includes(`"runId":"${runId}"`) && line.includes('"message":"spans"'))
          .flatMap((line) => (JSON.parse(line.slice(line.indexOf("{"))) as { spans: Span[] }).spans);
        return found.length >= 6 ? found : undefined;
      },
      { harness },
    );
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(
      spans.map((span) => [span.attributes["signalbox.node.id"] ?? null, span.attributes["signalbox.attempt"] ?? null]),
    ).toEqual(
      expect.arrayContaining([
        ["reserve", 1],
        ["charge", 1],
        ["charge", 2],
        ["charge", 3],
        ["receipt", 1],
        [null, null],
      ]),
    );
    expect(report.operations.map((entry) => entry.type)).toEqual(["retry"]);
  });

  it("pauses a run across its sleep and resumes it", async () => {
    const id = uniqueId("e2e-pause");
    await registerWorkflow(harness, {
      id,
      name: id,
      nodes: [
        { id: "nap", type: "wait", config: { duration: "2s" } },
        { id: "ping", type: "http", config: { url: `${testServer.url}/${id}/ping` } },
      ],
      edges: [{ from: "nap", to: "ping" }],
    });
    const started = await post(`/api/workflows/${id}/runs`, { input: {} });
    const { runId } = (await started.json()) as { runId: string };
    expect((await post(`/api/runs/${runId}/pause`)).status).toBe(200);
    // The sleep's alarm fires on its own under wrangler dev; the run holds it.
    await waitFor(
      "the wake-up to be held",
      async () => ((await getReport(harness, runId)).paused?.heldTimers === 1 ? true : undefined),
      { harness },
    );
    expect(testServer.requests.filter((request) => request.path === `/${id}/ping`)).toHaveLength(0);
    expect((await post(`/api/runs/${runId}/resume`)).status).toBe(200);
    expect((await waitForRunEnd(harness, runId)).status).toBe("success");
    expect(testServer.requests.filter((request) => request.path === `/${id}/ping`)).toHaveLength(1);
  });
});
