import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunStatus, StepState } from "../../src/engine/state";
import type { OutboxEntry } from "../../src/run/run-storage";
import { writeCheckpoints } from "../../src/store/checkpoints";
import { api, register, settle, startManual } from "./helpers";
import { expectError, fireAlarm, testServer } from "./support";

/**
 * A known set of runs, written as the run objects write their checkpoints: 20 runs of
 * `m-synth` in the last 10 minutes (run i: queue lag 2i ms, one step `work` lasting 10i ms;
 * runs 1-4 needed a second attempt, after a 1 ms failure), plus one failed run 3 hours old.
 */
const workflowId = "m-synth";
const statusOf = (i: number): RunStatus =>
  i <= 12 ? "success" : i <= 15 ? "failed" : i === 16 ? "cancelled" : i <= 18 ? "needs_review" : "running";

async function seed(now: number): Promise<void> {
  const entries: OutboxEntry[] = [];
  const add = (runId: string, createdAt: number, i: number, status: RunStatus) => {
    const startedAt = createdAt + 2 * i;
    const endedAt = startedAt + 10 * i;
    const retried = i <= 4;
    const step: StepState = {
      nodeId: "work",
      type: "http",
      status: status === "running" ? "running" : status === "needs_review" ? "needs_review" : status,
      attempts: retried ? 2 : 1,
      interruptions: 0,
      startedAt,
      ...(status === "running" || status === "needs_review" ? {} : { endedAt }),
      history: retried
        ? [
            { attempt: 1, startedAt, endedAt: startedAt + 1, outcome: "failure" },
            { attempt: 2, startedAt: endedAt - 10 * i, endedAt, outcome: "success" },
          ]
        : [{ attempt: 1, startedAt, endedAt, outcome: "success" }],
    };
    const ended = status === "success" || status === "failed" || status === "cancelled";
    entries.push({
      kind: "run",
      triggerType: "manual",
      state: {
        runId,
        workflowId,
        version: 1,
        status,
        createdAt,
        updatedAt: endedAt,
        startedAt,
        contextVersion: 1,
        // Runs 1-3 called a model: 100i tokens in, 10i out, i cents.
        ...(i <= 3
          ? {
              llm: {
                inputTokens: 100 * i,
                outputTokens: 10 * i,
                totalTokens: 110 * i,
                calls: 1,
                cachedCalls: 0,
                costUsd: i / 100,
                unpricedCalls: 0,
              },
            }
          : {}),
        ...(ended ? { endedAt } : {}),
        ...(status === "failed" ? { error: { code: "node.http_status", message: "400", retryable: false } } : {}),
      },
    });
    entries.push({ kind: "step", runId, step, updatedAt: endedAt });
  };
  for (let i = 1; i <= 20; i++)
    add(`run_synth${String(i).padStart(21, "0")}`, now - 600_000 + i * 1_000, i, statusOf(i));
  add("run_synthold000000000000000000", now - 3 * 3_600_000, 13, "failed");
  await writeCheckpoints(env.DB, entries);
  // Run 1 asked someone to approve (it reached needs_review, then went on).
  await env.DB.prepare(
    `INSERT INTO approvals (id, token_hash, run_id, workflow_id, node_id, attempt, round, kind, purpose, approver, created_at, expires_at, status)
     VALUES ('apr_synth', 'hash-synth', ?1, ?2, 'work', 1, 1, 'approval', 'request', 'ann@x.test', ?3, ?3, 'used')`,
  )
    .bind("run_synth000000000000000000001", workflowId, now)
    .run();
}

interface Report {
  runs: {
    total: number;
    byStatus: Record<string, number>;
    successRate: number;
    failureRate: number;
    reviewRate: number;
    reviewed: number;
  };
  queueLag: { count: number; sumMs: number; p50: number; p95: number; p99: number; max: number };
  steps: {
    workflowId: string;
    nodeId: string;
    type: string;
    count: number;
    p50: number;
    p95: number;
    p99: number;
    sumMs: number;
  }[];
  attempts: { nodeId: string; count: number; p50: number; p95: number; p99: number; max: number; sumMs: number }[];
  retries: { total: number; byNode: { workflowId: string; nodeId: string; retries: number }[] };
  deadLetters: { count: number };
  llm: { inputTokens: number; outputTokens: number; costUsd: number };
}

describe("GET /api/metrics", () => {
  beforeAll(async () => {
    await seed(Date.now());
  });

  it("computes rates, percentiles, retries and dead letters for a known set of runs", async () => {
    const response = await api(`/api/metrics?window=1h&workflow=${workflowId}`);
    expect(response.status).toBe(200);
    const report = (await response.json()) as Report;
    expect(report.runs).toEqual({
      total: 20,
      byStatus: { success: 12, failed: 3, cancelled: 1, needs_review: 2, running: 2 },
      byWorkflow: [
        { workflowId, total: 20, byStatus: { success: 12, failed: 3, cancelled: 1, needs_review: 2, running: 2 } },
      ],
      successRate: 12 / 16,
      failureRate: 3 / 16,
      reviewRate: 3 / 20,
      reviewed: 3,
    });
    // Lags 2, 4, ..., 40: nearest rank 10, 19 and 20 of 20.
    expect(report.queueLag).toEqual({ count: 20, sumMs: 420, p50: 20, p95: 38, p99: 40, max: 40 });
    // Steps that ended (running and needs_review ones have not): runs 1-16, 10..160 ms.
    expect(report.steps).toEqual([
      { workflowId, nodeId: "work", type: "http", count: 16, sumMs: 1360, p50: 80, p95: 160, p99: 160, max: 160 },
    ]);
    // Attempts: four 1 ms failures and one attempt per run of 10i ms (20 of them): 24 values.
    expect(report.attempts).toEqual([
      expect.objectContaining({ nodeId: "work", count: 24, sumMs: 2104, p50: 80, p95: 190, p99: 200, max: 200 }),
    ]);
    expect(report.retries).toEqual({ total: 4, byNode: [{ workflowId, nodeId: "work", retries: 4 }] });
    // Every failed run counts, the one from three hours ago too.
    expect(report.deadLetters).toEqual({ count: 4 });
    // Runs 1-3: 100 + 200 + 300 tokens in, 10 + 20 + 30 out, 0.01 + 0.02 + 0.03 USD.
    expect(report.llm).toEqual({ inputTokens: 600, outputTokens: 60, costUsd: expect.closeTo(0.06, 10) });

    const wide = (await (await api(`/api/metrics?window=4h&workflow=${workflowId}`)).json()) as Report;
    expect(wide.runs.total).toBe(21);
    expect(wide.runs.byStatus.failed).toBe(4);
  });

  it("serves Prometheus text with HELP and TYPE lines", async () => {
    const response = await api(`/api/metrics?window=1h&workflow=${workflowId}`, { headers: { accept: "text/plain" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    const lines = text.trimEnd().split("\n");
    // Every sample belongs to a family declared above it with HELP then TYPE.
    const declared = new Map<string, string>();
    for (const [index, line] of lines.entries()) {
      const type = /^# TYPE (\w+) (gauge|counter|summary)$/.exec(line);
      if (type?.[1] && type[2]) {
        expect(lines[index - 1]).toMatch(new RegExp(`^# HELP ${type[1]} \\S`));
        declared.set(type[1], type[2]);
        continue;
      }
      if (line.startsWith("#")) continue;
      const name = /^(\w+?)(_sum|_count)?(\{| )/.exec(line);
      const family = name?.[1] && declared.has(name[1]) ? name[1] : (name?.[1] ?? "") + (name?.[2] ?? "");
      expect(declared.has(family), line).toBe(true);
      expect(line).toMatch(/ (-?\d+(\.\d+)?(e[-+]?\d+)?|NaN)$/);
    }
    expect([...declared.keys()]).toEqual([
      "signalbox_metrics_window_seconds",
      "signalbox_runs",
      "signalbox_run_success_ratio",
      "signalbox_run_failure_ratio",
      "signalbox_run_review_ratio",
      "signalbox_queue_lag_ms",
      "signalbox_step_duration_ms",
      "signalbox_attempt_duration_ms",
      "signalbox_step_retries",
      "signalbox_dead_letters",
      "signalbox_llm_tokens",
      "signalbox_llm_cost_usd",
      "signalbox_email_rejections",
      "signalbox_flow_rate_limited",
      "signalbox_circuit_state",
      "signalbox_circuit_opens_total",
      "signalbox_limit_calls_total",
      "signalbox_limit_deferrals_total",
      "signalbox_limit_waiting",
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "signalbox_metrics_window_seconds 3600",
        `signalbox_runs{workflow="${workflowId}",status="success"} 12`,
        "signalbox_run_success_ratio 0.75",
        "signalbox_run_review_ratio 0.15",
        'signalbox_queue_lag_ms{quantile="0.95"} 38',
        "signalbox_queue_lag_ms_count 20",
        `signalbox_step_duration_ms{workflow="${workflowId}",node="work",type="http",quantile="0.5"} 80`,
        `signalbox_attempt_duration_ms{workflow="${workflowId}",node="work",type="http",quantile="0.99"} 200`,
        `signalbox_attempt_duration_ms_sum{workflow="${workflowId}",node="work",type="http"} 2104`,
        `signalbox_step_retries{workflow="${workflowId}",node="work"} 4`,
        "signalbox_dead_letters 4",
        'signalbox_llm_tokens{direction="input"} 600',
      ]),
    );
    const viaQuery = await api(`/api/metrics?workflow=${workflowId}&format=prometheus`);
    expect(await viaQuery.text()).toBe(text);
  });

  it("follows real runs through their checkpoints", async () => {
    const id = "m-real";
    const path = `/${id}/flaky`;
    await testServer.script(path, [{ status: 503 }, { status: 503 }]);
    await register({
      id,
      name: id,
      nodes: [
        {
          id: "call",
          type: "http",
          config: { url: `${testServer.url}${path}` },
          retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "1h" },
        },
      ],
    });
    const flaky = await startManual(id);
    expect((await settle(flaky)).status).toBe("waiting");
    expect(await fireAlarm(flaky)).toBe(true);
    expect((await settle(flaky)).status).toBe("failed");
    const fine = [await startManual(id), await startManual(id)];
    for (const runId of fine) await settle(runId);
    const report = (await (await api(`/api/metrics?workflow=${id}`)).json()) as Report;
    expect(report.runs.byStatus).toEqual({ failed: 1, success: 2 });
    expect(report.retries.total).toBe(1);
    expect(report.steps[0]).toMatchObject({ nodeId: "call", count: 3 });
    expect(report.attempts[0]).toMatchObject({ nodeId: "call", count: 4 });
    expect(report.deadLetters.count).toBe(1);
  });

  it("refuses a bad window", async () => {
    await expectError(await api("/api/metrics?window=forever"), 400, "metrics.window_invalid");
    await expectError(await api("/api/metrics?window=0s"), 400, "metrics.window_invalid");
    await expectError(await api("/api/metrics?window=365d"), 400, "metrics.window_invalid");
    await expectError(await api("/api/metrics?format=xml"), 400, "request.invalid");
  });
});
