import { describe, expect, it } from "vitest";
import type { LimitView } from "../../src/limits/view";
import { asKey, makeKey } from "./access-support";
import { api } from "./helpers";
import { limitObject } from "./limits-support";
import { llmServer } from "./llm-helpers";
import { expectError } from "./support";

const flakyCircuit = { failureRate: 0.5, minimumCalls: 2, windowMs: 60_000, coolDownMs: 30_000 };

async function limits(): Promise<{ limits: LimitView[]; problem: string | null }> {
  const response = await api("/api/limits");
  expect(response.status).toBe(200);
  return response.json();
}

describe("GET /api/limits", () => {
  it("lists every configured limit by name, unused ones closed and at zero", async () => {
    const body = await limits();
    expect(body.problem).toBeNull();
    const host = `http:${new URL(llmServer.url).host}`;
    expect(body.limits.map((limit) => [limit.name, limit.kind])).toEqual([
      ["flaky", "named"],
      [host, "http"],
      ["llm:fragile", "llm"],
      ["llm:metered", "llm"],
      ["llm:throttled", "llm"],
    ]);
    expect(body.limits[0]).toEqual({
      name: "flaky",
      kind: "named",
      config: { circuit: flakyCircuit },
      circuit: {
        status: "closed",
        openedAt: null,
        reopensAt: null,
        probe: null,
        window: { successes: 0, failures: 0 },
        opens: 0,
        lastFailure: null,
      },
      pausedUntil: null,
      waiting: 0,
      counts: {
        calls: 0,
        deferred: { rate: 0, "retry-after": 0, circuit: 0 },
        succeeded: 0,
        failed: 0,
        rateLimited: 0,
      },
      used: false,
    });
    expect(body.limits[3]).toMatchObject({ config: { requestsPerMinute: 2 }, circuit: null });
  });

  it("shows an open circuit, when it lets its probe through, and the same in the metrics", async () => {
    const limit = limitObject("flaky");
    const now = Date.now();
    await limit.setClock(now);
    for (const key of ["a", "b"]) {
      await limit.stub.take("flaky", { circuit: flakyCircuit }, { key, timeoutMs: 1_000 });
      await limit.stub.report("flaky", { circuit: flakyCircuit }, { key, outcome: "failure", code: "node.timeout" });
    }
    await limit.stub.take("flaky", { circuit: flakyCircuit }, { key: "c", timeoutMs: 1_000 });

    const response = await api("/api/limits/flaky");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      name: "flaky",
      circuit: {
        status: "open",
        openedAt: now,
        reopensAt: now + 30_000,
        opens: 1,
        lastFailure: { at: now, code: "node.timeout" },
      },
      counts: { calls: 2, failed: 2, deferred: { circuit: 1 } },
      used: true,
    });

    const metrics = (await (await api("/api/metrics")).json()) as { limits: unknown[] };
    expect(metrics.limits).toContainEqual({
      name: "flaky",
      circuit: "open",
      opens: 1,
      waiting: 0,
      counts: {
        calls: 2,
        deferred: { rate: 0, "retry-after": 0, circuit: 1 },
        succeeded: 0,
        failed: 2,
        rateLimited: 0,
      },
    });
    const text = await (await api("/api/metrics?format=prometheus")).text();
    const lines = text.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "# TYPE signalbox_circuit_state gauge",
        'signalbox_circuit_state{limit="flaky"} 2',
        'signalbox_circuit_opens_total{limit="flaky"} 1',
        'signalbox_limit_calls_total{limit="flaky"} 2',
        'signalbox_limit_deferrals_total{limit="flaky",reason="circuit"} 1',
        'signalbox_limit_waiting{limit="llm:metered"} 0',
      ]),
    );
    // Limits without a circuit have no circuit state.
    expect(lines.some((line) => line.startsWith('signalbox_circuit_state{limit="llm:metered"}'))).toBe(false);
  });

  it("reads a provider's limit by its name as written or percent-encoded", async () => {
    for (const path of ["/api/limits/llm:metered", "/api/limits/llm%3Ametered"]) {
      const response = await api(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: "llm:metered", kind: "llm" });
    }
  });

  it("answers 404 limit.not_found for a name no limit has", async () => {
    await expectError(await api("/api/limits/nowhere"), 404, "limit.not_found");
    await expectError(await api("/api/limits/llm:backup"), 404, "limit.not_found");
  });

  it("is readable by a viewer and refused to a trigger key", async () => {
    const viewer = await makeKey({ name: "limits viewer", role: "viewer" });
    expect((await asKey(viewer.key, "/api/limits")).status).toBe(200);
    expect((await asKey(viewer.key, "/api/limits/flaky")).status).toBe(200);
    const trigger = await makeKey({ name: "limits trigger", role: "trigger", workflows: ["limits-wf"] });
    await expectError(await asKey(trigger.key, "/api/limits"), 403, "auth.forbidden");
    await expectError(
      await api("/api/limits", { headers: { authorization: "Bearer nope" } }),
      401,
      "auth.invalid_token",
    );
  });
});
