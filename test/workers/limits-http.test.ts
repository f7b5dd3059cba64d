import { describe, expect, it } from "vitest";
import { register, settle, startManual } from "./helpers";
import { driveToEnd, limitObject } from "./limits-support";
import { llmServer } from "./llm-helpers";
import { fireAlarm, testServer } from "./support";

function httpFlow(id: string, config: Record<string, unknown>, retry?: unknown) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [{ id: "call", type: "http", config, ...(retry ? { retry } : {}) }],
    edges: [],
  };
}

describe("circuit breakers on http calls", () => {
  it("opens on a failing server, lets one probe through after the cool-down, closes when it recovers, loses no step", async () => {
    // LIMITS.flaky: circuit {failureRate 0.5, minimumCalls 2, window 60s, coolDown 30s}.
    const path = "/limits-circuit/down";
    await testServer.script(path, [{ status: 503 }, { status: 503 }, { status: 503 }]);
    const limit = limitObject("flaky");
    const t0 = Date.now();
    await limit.setClock(t0);
    const url = `${testServer.url}${path}`;
    await register(
      httpFlow(
        "limits-circuit",
        { url, limit: "flaky", output: "answer" },
        { maxAttempts: 5, initialDelay: "5s", backoff: "fixed" },
      ),
    );
    const runs = [await startManual("limits-circuit"), await startManual("limits-circuit")];
    for (const runId of runs) {
      expect((await settle(runId)).steps[0]).toMatchObject({ status: "waiting", error: { code: "node.http_status" } });
    }
    // Two calls, both failed: the circuit is open, and later steps do not pile on.
    expect((await limit.stub.snapshot())?.state.circuit).toMatchObject({ status: "open", openedAt: t0, opens: 1 });
    runs.push(await startManual("limits-circuit"), await startManual("limits-circuit"));
    for (const runId of runs.slice(2)) {
      expect((await settle(runId)).steps[0]).toMatchObject({
        status: "waiting",
        attempts: 1,
        error: null,
        deferred: { limit: "flaky", reason: "circuit", until: t0 + 30_000 },
      });
    }
    // A node that says so fails at once rather than wait.
    await register(httpFlow("limits-circuit-fast", { url, limit: "flaky", onCircuitOpen: "fail" }, { maxAttempts: 1 }));
    const fast = await settle(await startManual("limits-circuit-fast"));
    expect(fast.status).toBe("failed");
    expect(fast.error).toMatchObject({
      code: "circuit.open",
      retryable: true,
      details: { limit: "flaky", until: t0 + 30_000 },
    });
    expect(await testServer.requests(path)).toHaveLength(2);

    // The first two runs' retries come due while it is open: they wait too, still as their second attempt.
    await limit.setClock(t0 + 5_000);
    for (const runId of runs.slice(0, 2)) await fireAlarm(runId);
    for (const runId of runs.slice(0, 2)) {
      expect((await settle(runId)).steps[0]).toMatchObject({ attempts: 2, deferred: { reason: "circuit" } });
    }
    expect(await testServer.requests(path)).toHaveLength(2);

    // After the cool-down one probe goes; it fails, and the circuit opens for another cool-down.
    await limit.setClock(t0 + 30_000);
    for (const runId of runs) {
      await fireAlarm(runId);
      await settle(runId);
    }
    expect(await testServer.requests(path)).toHaveLength(3);
    expect((await limit.stub.snapshot())?.state.circuit).toMatchObject({
      status: "open",
      openedAt: t0 + 30_000,
      opens: 2,
    });

    // The server has recovered: the next probe succeeds, the circuit closes and every step goes.
    const { reports } = await driveToEnd(runs, (at) => limit.setClock(at));
    expect(reports.map((report) => report.status)).toEqual(["success", "success", "success", "success"]);
    for (const report of reports) expect(report.context.answer).toMatchObject({ status: 200 });
    const requests = await testServer.requests(path);
    expect(requests).toHaveLength(7);
    const snapshot = await limit.stub.snapshot();
    expect(snapshot?.state.circuit).toMatchObject({ status: "closed", opens: 2 });
    expect(snapshot?.state.counts).toMatchObject({ calls: 7, failed: 3, succeeded: 4 });
    expect(snapshot?.state.counts.deferred.circuit).toBeGreaterThanOrEqual(7);
  });
});

describe("http limits by host and by name", () => {
  it("holds calls to a limited host to their turns, parallel ones sent through the queue included", async () => {
    // LIMITS["http:<LLM server host>"] = {requestsPerMinute: 1}.
    const host = new URL(llmServer.url).host;
    const limit = limitObject(`http:${host}`);
    const t0 = Date.now();
    await limit.setClock(t0);
    const url = `${llmServer.url}/__llm/requests?model=limits-host`;
    await register({
      id: "limits-host",
      name: "limits-host",
      triggers: [{ type: "manual" }],
      nodes: [
        { id: "a", type: "http", config: { url, output: "a" } },
        { id: "b", type: "http", config: { url, output: "b" } },
        { id: "c", type: "http", config: { url, output: "c" } },
      ],
      edges: [{ from: "a", to: "c" }],
    });
    const runId = await startManual("limits-host");
    const { reports, fired } = await driveToEnd([runId], (at) => limit.setClock(at));
    expect(reports[0]?.status).toBe("success");
    expect(reports[0]?.steps.map((step) => step.attempts)).toEqual([1, 1, 1]);
    expect(fired).toContain(t0 + 60_000);
    expect(fired).toContain(t0 + 120_000);
    expect((await limit.stub.snapshot())?.state.counts).toMatchObject({ calls: 3, deferred: { rate: 2 } });
  });

  it("fails a step that names a limit LIMITS does not have, without calling", async () => {
    const path = "/limits-unknown";
    await register(
      httpFlow("limits-unknown", { url: `${testServer.url}${path}`, limit: "nowhere" }, { maxAttempts: 3 }),
    );
    const report = await settle(await startManual("limits-unknown"));
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "limit.unknown", retryable: false });
    expect(String((report.error as { message: string }).message)).toContain('no limit named "nowhere"');
    expect(await testServer.requests(path)).toHaveLength(0);
  });

  it("costs nothing where no limit applies: no limit object is asked", async () => {
    const path = "/limits-free";
    await register(httpFlow("limits-free", { url: `${testServer.url}${path}`, output: "free" }));
    const report = await settle(await startManual("limits-free"));
    expect(report.status).toBe("success");
    const host = new URL(testServer.url).host;
    expect(await limitObject(`http:${host}`).stub.snapshot()).toBeNull();
  });
});
