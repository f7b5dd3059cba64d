import { describe, expect, it } from "vitest";
import { getReport, type Harness, registerWorkflow, uniqueId, useHarness, waitFor, waitForRunEnd } from "./harness";

let harness: Harness;
// Leases short enough that a lost grant comes back within the test's patience.
useHarness(
  (started) => {
    harness = started;
  },
  { vars: { FLOW_SLOT_LEASE: "1s" } },
);

async function start(workflowId: string, n: number): Promise<string> {
  const response = await harness.api(`/api/workflows/${workflowId}/runs`, {
    method: "POST",
    body: JSON.stringify({ input: { n } }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

/** The event `go`, with a fixed id: sent again after a crash, it is the same event. */
function go(runId: string): Promise<Response> {
  return harness.api(`/api/runs/${runId}/events/go`, {
    method: "POST",
    body: JSON.stringify({ id: `go-${runId}`, payload: {} }),
  });
}

function statusIs(runId: string, status: string) {
  return waitFor(
    `run ${runId} to be ${status}`,
    async () => ((await getReport(harness, runId)).status === status ? true : undefined),
    { timeoutMs: 30_000, harness },
  );
}

describe("flow control across a crash", () => {
  it("a dev server killed while a slot passes from one run to the next leaks no slot", async () => {
    const workflowId = uniqueId("e2e-flow");
    await registerWorkflow(harness, {
      id: workflowId,
      name: "one at a time",
      flow: { concurrency: [{ limit: 1, holdWhileWaiting: true }] },
      nodes: [
        { id: "hold", type: "wait", config: { event: "go", timeout: "10m" } },
        { id: "done", type: "log", config: { message: "done" } },
      ],
      edges: [{ from: "hold", to: "done" }],
    });
    const runs = [await start(workflowId, 1), await start(workflowId, 2), await start(workflowId, 3)];
    await statusIs(runs[0] as string, "waiting");
    expect((await getReport(harness, runs[1] as string)).status).toBe("queued");

    // The first run ends, gives its slot back and the gate hands it on, while the process dies.
    const delivery = go(runs[0] as string).catch(() => undefined);
    await harness.kill();
    await delivery;
    await harness.restart();

    // Sent again (a duplicate if it got through, refused if that run already ended); a queued
    // run keeps its event until its wait takes it. Only the gates decide who runs next.
    for (const runId of runs) await go(runId);
    for (const runId of runs) expect((await waitForRunEnd(harness, runId)).status).toBe("success");
  });
});
