import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, registerWorkflow, startHarness, uniqueId, waitFor, waitForRunEnd } from "./harness";

const webhookSecret = "e2e-webhook-secret";
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ vars: { E2E_WEBHOOK_SECRET: webhookSecret } });
});

afterAll(async () => {
  await harness?.stop();
});

function workflow(id: string, triggers: unknown[]) {
  return {
    id,
    name: id,
    triggers,
    nodes: [{ id: "echo", type: "transform", config: { set: { seen: "input" } } }],
    edges: [],
  };
}

/** Polls the run list until the workflow has a run (runs start from a queue, checkpoints follow). */
function firstRun(workflowId: string): Promise<string> {
  return waitFor(
    `a run of ${workflowId}`,
    async () => {
      const response = await harness.api(`/api/runs?workflow=${workflowId}`);
      const body = (await response.json()) as { runs: { runId: string }[] };
      return body.runs[0]?.runId;
    },
    { harness },
  );
}

interface ScheduleBody {
  nextAt: number;
  alarmAt: number | null;
}

describe("triggers under wrangler dev", () => {
  it("an upload through PUT /api/files starts an r2-triggered run through the local queue", async () => {
    const id = uniqueId("e2e-upload");
    await registerWorkflow(harness, workflow(id, [{ type: "r2", prefix: `${id}/` }]));
    const put = await harness.api(`/api/files/${id}/report.txt`, {
      method: "PUT",
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    expect(put.status).toBe(201);
    const report = await waitForRunEnd(harness, await firstRun(id));
    expect(report.status).toBe("success");
    expect(report.input).toMatchObject({ key: `${id}/report.txt`, size: 5, action: "PutObject" });
    const read = await harness.api(`/api/files/${id}/report.txt`);
    expect(await read.text()).toBe("hello");
  });

  it("an event fans in to every subscribed workflow, once per event id", async () => {
    const name = `${uniqueId("e2e-event")}.created`;
    const ids = [uniqueId("e2e-sub-a"), uniqueId("e2e-sub-b")];
    for (const id of ids) await registerWorkflow(harness, workflow(id, [{ type: "event", name }]));
    const publish = () =>
      harness.api("/api/events", { method: "POST", body: JSON.stringify({ name, id: "e-1", payload: { n: 1 } }) });
    const first = (await (await publish()).json()) as { runs: { workflowId: string; status: string; runId: string }[] };
    expect(first.runs.map((run) => [run.workflowId, run.status]).sort()).toEqual(
      ids.map((id) => [id, "queued"]).sort(),
    );
    const again = (await (await publish()).json()) as { runs: { status: string }[] };
    expect(again.runs.map((run) => run.status)).toEqual(["duplicate", "duplicate"]);
    for (const run of first.runs) expect((await waitForRunEnd(harness, run.runId)).input).toEqual({ n: 1 });
  });

  it("verifies a signed webhook with a secret the Worker gets by name", async () => {
    const id = uniqueId("e2e-signed");
    await registerWorkflow(
      harness,
      workflow(id, [{ type: "webhook", verify: { scheme: "hmac", secret: "E2E_WEBHOOK_SECRET", prefix: "sha256=" } }]),
    );
    const body = JSON.stringify({ order: 7 });
    const post = (signature: string) =>
      fetch(`${harness.baseUrl}/hooks/${id}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-signature": signature },
        body,
      });
    const bad = await post(`sha256=${"0".repeat(64)}`);
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      "webhook.signature_invalid",
    ]);
    const good = await post(`sha256=${createHmac("sha256", webhookSecret).update(body).digest("hex")}`);
    expect(good.status).toBe(202);
    const { runId } = (await good.json()) as { runId: string };
    expect((await waitForRunEnd(harness, runId)).input).toEqual({ order: 7 });
  });

  it("a schedule's alarm survives a restart of wrangler dev", async () => {
    const id = uniqueId("e2e-schedule");
    // Once a day at a minute that is not now: the test must not depend on the tick firing.
    const cron = `${(new Date().getUTCMinutes() + 30) % 60} ${(new Date().getUTCHours() + 12) % 24} * * *`;
    await registerWorkflow(harness, workflow(id, [{ type: "schedule", cron }]));
    const schedule = async () => (await (await harness.api(`/api/workflows/${id}/schedule`)).json()) as ScheduleBody;
    const before = await schedule();
    expect(before.nextAt).toBeGreaterThan(Date.now());
    expect(before.alarmAt).toBe(before.nextAt);

    await harness.restart();

    const after = await schedule();
    expect(after).toMatchObject({ nextAt: before.nextAt, alarmAt: before.nextAt });
  });
});
