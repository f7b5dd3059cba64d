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

/** http -> wait -> http -> log; each http path names the workflow so tests can tell calls apart. */
async function startSleepyRun(waitMs: number) {
  const workflowId = uniqueId("e2e-crash");
  const before = `/${workflowId}/before`;
  const after = `/${workflowId}/after`;
  await registerWorkflow(harness, {
    id: workflowId,
    name: "e2e crash and resume",
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "before", type: "http", config: { method: "POST", url: `${testServer.url}${before}`, body: "input" } },
      { id: "nap", type: "wait", config: { duration: `${waitMs}ms` } },
      { id: "after", type: "http", config: { method: "POST", url: `${testServer.url}${after}`, body: "input" } },
      { id: "done", type: "log", config: { message: "run {{ run.id }} resumed and finished" } },
    ],
    edges: [
      { from: "before", to: "nap" },
      { from: "nap", to: "after" },
      { from: "after", to: "done" },
    ],
  });
  const started = await harness.api(`/api/workflows/${workflowId}/runs`, {
    method: "POST",
    body: JSON.stringify({ input: { n: 1 } }),
  });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  const waiting = await waitFor(
    "the wait step to be waiting",
    async () => {
      const report = await getReport(harness, runId);
      return step(report, "nap").status === "waiting" ? report : undefined;
    },
    { harness },
  );
  expect(step(waiting, "before").status).toBe("success");
  return { workflowId, runId, before, after, wakeAt: (step(waiting, "nap").startedAt ?? 0) + waitMs };
}

/**
 * Kills wrangler dev, restarts it, then watches only the test server until `path` is called.
 * With `downUntilWake`, the server stays down until the run's timer is due, so the alarm is
 * overdue when workerd comes back whatever the restart takes.
 */
async function crashAndWatch(path: string, wakeAt: number, { downUntilWake = false } = {}) {
  const killedAt = Date.now();
  await harness.kill();
  // The outage itself, not a wait for a timer: the timer must come due while nothing runs.
  if (downUntilWake && wakeAt > Date.now())
    await new Promise((resolve) => setTimeout(resolve, wakeAt - Date.now() + 50));
  await harness.restart();
  const restartedAt = Date.now();
  // No API call here: one would load the run's object and wake it. The alarm alone must.
  const call = await waitFor(
    `the run's alarm to fire after the restart and call ${path}`,
    async () => testServer.requests.find((request) => request.path === path),
    { timeoutMs: Math.max(0, wakeAt - Date.now()) + 15_000, harness },
  );
  console.log(
    JSON.stringify({
      path,
      killedMsBeforeWake: wakeAt - killedAt,
      restartMs: restartedAt - killedAt,
      calledMsAfterWake: call.at - wakeAt,
      calledMsAfterRestart: call.at - restartedAt,
    }),
  );
  return { call, restartedAt };
}

async function expectCleanFinish(run: Awaited<ReturnType<typeof startSleepyRun>>) {
  const report = await waitForRunEnd(harness, run.runId);
  expect(report.status, JSON.stringify(report.error)).toBe("success");
  expect(report.steps.map((entry) => [entry.nodeId, entry.status, entry.attempts])).toEqual([
    ["before", "success", 1],
    ["nap", "success", 1],
    ["after", "success", 1],
    ["done", "success", 1],
  ]);
  expect(step(report, "nap").endedAt).toBeGreaterThanOrEqual(run.wakeAt);
  expect(testServer.requests.filter((request) => request.path === run.before)).toHaveLength(1);
  expect(testServer.requests.filter((request) => request.path === run.after)).toHaveLength(1);
  // The D1 checkpoints written behind the run catch up after the crash too.
  await waitFor(
    "the run to be listed as success",
    async () => {
      const response = await harness.api(`/api/runs?workflow=${run.workflowId}`);
      const body = (await response.json()) as { runs: { runId: string; status: string }[] };
      return body.runs.find((entry) => entry.runId === run.runId && entry.status === "success");
    },
    { harness },
  );
}

describe("a run survives wrangler dev being killed mid-wait", () => {
  it("wakes on time after SIGKILL and a restart, and no step runs twice", async () => {
    const run = await startSleepyRun(3_000);
    const { call } = await crashAndWatch(run.after, run.wakeAt);
    expect(call.at).toBeGreaterThanOrEqual(run.wakeAt);
    await expectCleanFinish(run);
  });

  it("wakes a run whose timer came due while the server was down", async () => {
    // Long enough to see the step waiting on a loaded machine; the server stays down past it.
    const run = await startSleepyRun(1_000);
    const { restartedAt } = await crashAndWatch(run.after, run.wakeAt, { downUntilWake: true });
    expect(restartedAt).toBeGreaterThan(run.wakeAt);
    await expectCleanFinish(run);
  });
});
