import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RunObject } from "../../src/run/run-object";
import { register, settle, startManual } from "./helpers";
import { fireAlarm, runObject, testServer } from "./support";

function single(id: string, node: Record<string, unknown>) {
  return { id, name: id, triggers: [{ type: "manual" }], nodes: [{ id: "call", type: "http", ...node }], edges: [] };
}

function storedTimers(runId: string) {
  return runInDurableObject(runObject(runId), async (_instance: RunObject, state) => ({
    timers: state.storage.sql.exec<{ id: string; at: number }>("SELECT id, at FROM timers ORDER BY at").toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

describe("http node requests", () => {
  it("sends a templated request with a JSONata body and maps the response into the context", async () => {
    await register({
      id: "http-post",
      name: "http-post",
      triggers: [{ type: "manual" }],
      nodes: [
        {
          id: "call",
          type: "http",
          config: {
            method: "POST",
            url: "{{ input.base }}/http-post/tickets/{{ input.id }}",
            headers: { "x-ticket": "T-{{ input.id }}" },
            body: "{ 'ticket': input.id, 'name': $uppercase(input.name) }",
            output: "created",
            map: "{ 'status': status, 'echoed': body.body.name }",
          },
        },
        { id: "raw", type: "http", config: { url: "{{ input.base }}/http-post/raw", output: "raw" } },
      ],
      edges: [{ from: "call", to: "raw" }],
    });
    const runId = await startManual("http-post", { base: testServer.url, id: 42, name: "ada" });
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.created).toEqual({ status: 200, echoed: "ADA" });
    expect(report.context.raw).toMatchObject({ status: 200, body: { ok: true, path: "/http-post/raw" } });

    const [sent] = await testServer.requests("/http-post/tickets/42");
    expect(sent?.method).toBe("POST");
    expect(sent?.headers["x-ticket"]).toBe("T-42");
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.headers["idempotency-key"]).toBe(`${runId}:call:1`);
    expect(JSON.parse(sent?.body ?? "null")).toEqual({ ticket: 42, name: "ADA" });
    const [raw] = await testServer.requests("/http-post/raw");
    expect(raw?.method).toBe("GET");
    expect(raw?.headers["idempotency-key"]).toBe(`${runId}:raw:1`);
  });
});

describe("http node failures", () => {
  it("retries a 503 on a timer and succeeds on the second attempt with a new key", async () => {
    const path = "/http-retry/flaky";
    await testServer.script(path, [{ status: 503 }, { status: 200, body: { fine: true } }]);
    await register(
      single("http-retry", {
        config: { method: "POST", url: `${testServer.url}${path}`, body: "{ 'n': 1 }", output: "result" },
        retry: { maxAttempts: 3, backoff: "fixed", initialDelay: "30s" },
      }),
    );
    const runId = await startManual("http-retry");
    const waiting = await settle(runId);
    expect(waiting.status).toBe("waiting");
    expect(waiting.steps[0]).toMatchObject({ status: "waiting", attempts: 1, error: { code: "node.http_status" } });
    const { timers, alarm } = await storedTimers(runId);
    expect(timers.map((timer) => timer.id)).toEqual(["retry:call:1"]);
    expect(alarm).toBe(timers[0]?.at);

    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.steps[0]).toMatchObject({ status: "success", attempts: 2, error: null });
    expect(report.context.result).toMatchObject({ status: 200, body: { fine: true } });
    const keys = (await testServer.requests(path)).map((request) => request.headers["idempotency-key"]);
    expect(keys).toEqual([`${runId}:call:1`, `${runId}:call:2`]);
  });

  it("fails the run at once on a 400", async () => {
    const path = "/status/400?tag=http-400";
    await register(single("http-400", { config: { url: `${testServer.url}${path}` }, retry: { maxAttempts: 5 } }));
    const runId = await startManual("http-400");
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "node.http_status", nodeId: "call", retryable: false });
    expect(report.steps[0]).toMatchObject({ status: "failed", attempts: 1, error: { code: "node.http_status" } });
    expect(await testServer.requests(path)).toHaveLength(1);
    expect((await storedTimers(runId)).timers).toEqual([]);
  });

  it("waits at least as long as Retry-After asks", async () => {
    const path = "/status/503?retryAfter=120&tag=http-retry-after";
    await register(
      single("http-retry-after", {
        config: { url: `${testServer.url}${path}` },
        retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "1s" },
      }),
    );
    const runId = await startManual("http-retry-after");
    const report = await settle(runId);
    expect(report.status).toBe("waiting");
    const failedAt = report.steps[0]?.history[0]?.endedAt;
    expect(failedAt).toBeTypeOf("number");
    const { timers, alarm } = await storedTimers(runId);
    expect(timers).toHaveLength(1);
    expect((timers[0]?.at ?? 0) - (failedAt ?? 0)).toBeGreaterThanOrEqual(120_000);
    expect(alarm).toBe(timers[0]?.at);

    expect(await fireAlarm(runId)).toBe(true);
    const final = await settle(runId);
    expect(final.status).toBe("failed");
    expect(final.steps[0]).toMatchObject({ status: "failed", attempts: 2 });
    expect(await testServer.requests(path)).toHaveLength(2);
  });

  it("fails a node that outlives its timeout with node.timeout", async () => {
    await register(
      single("http-timeout", {
        config: { url: `${testServer.url}/delay/1000` },
        timeout: "200ms",
        retry: { maxAttempts: 1 },
      }),
    );
    const runId = await startManual("http-timeout");
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "node.timeout", nodeId: "call" });
    expect(report.steps[0]).toMatchObject({ status: "failed", attempts: 1 });
    const duration = report.steps[0]?.durationMs ?? 0;
    expect(duration).toBeGreaterThanOrEqual(190);
    expect(duration).toBeLessThan(1000);
  });
});

describe("http node response size limit", () => {
  const limit = 4096;
  const run = async (id: string, bytes: number, as: string) => {
    await register(
      single(id, {
        config: { url: `${testServer.url}/sized/${bytes}?as=${as}`, output: "got", maxResponseBytes: limit },
        retry: { maxAttempts: 1 },
      }),
    );
    return settle(await startManual(id));
  };

  it.each(["length", "chunked", "gzip"])("takes a body of exactly the limit sent as %s", async (as) => {
    const report = await run(`http-size-ok-${as}`, limit, as);
    expect(report.status).toBe("success");
    expect((report.context.got as { body: string }).body).toHaveLength(limit - 2);
  });

  it.each(["length", "chunked", "gzip"])(
    "fails a body one byte over the limit sent as %s with node.http_response_too_large",
    async (as) => {
      const report = await run(`http-size-over-${as}`, limit + 1, as);
      expect(report.status).toBe("failed");
      expect(report.error).toMatchObject({ code: "node.http_response_too_large", nodeId: "call", retryable: false });
      expect(report.context.got).toBeUndefined();
    },
  );
});
