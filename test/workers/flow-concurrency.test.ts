import { describe, expect, it } from "vitest";
import { page, signIn } from "./dashboard-support";
import { type FlowReport, gate, gated, reportOf, sendGo, start } from "./flow-support";
import { api, register } from "./helpers";

const active = new Set(["running", "waiting"]);

describe("flow: concurrency", () => {
  it("a burst of 200 triggers across 10 keys never runs more than 2 per key, and all 200 finish", async () => {
    const { workflowId } = await register(
      gated("burst", { concurrency: [{ limit: 2, key: "input.customer", holdWhileWaiting: true }] }),
    );
    const inputs = Array.from({ length: 200 }, (_, index) => ({ customer: `c${index % 10}`, index }));
    const runs: { runId: string; customer: string }[] = [];
    for (let at = 0; at < inputs.length; at += 20) {
      const batch = inputs.slice(at, at + 20);
      const ids = await Promise.all(batch.map((input) => start(workflowId, input)));
      for (const [index, runId] of ids.entries()) {
        runs.push({ runId, customer: (batch[index] as { customer: string }).customer });
      }
    }
    let open = runs;
    let rounds = 0;
    while (open.length > 0) {
      rounds += 1;
      expect(rounds).toBeLessThanOrEqual(100);
      const reports = await Promise.all(open.map(async (run) => ({ ...run, report: await reportOf(run.runId) })));
      const perKey = new Map<string, number>();
      for (const { customer, report } of reports) {
        if (active.has(report.status)) perKey.set(customer, (perKey.get(customer) ?? 0) + 1);
        else expect(["queued", "success"]).toContain(report.status);
      }
      for (const customer of new Set(reports.map((run) => run.customer))) {
        const queued = reports.filter((run) => run.customer === customer && run.report.status === "queued").length;
        // Never more than the limit, and never an idle slot while runs of that key wait.
        expect({ customer, rounds, active: perKey.get(customer) ?? 0 }).toEqual({
          customer,
          rounds,
          active: queued > 0 ? 2 : Math.min(2, perKey.get(customer) ?? 0),
        });
      }
      const moving = reports.filter((run) => active.has(run.report.status));
      expect(moving.length).toBeGreaterThan(0);
      await Promise.all(moving.map((run) => sendGo(run.runId)));
      open = reports.filter((run) => run.report.status !== "success" && !moving.includes(run));
      const ended = await Promise.all(moving.map((run) => reportOf(run.runId)));
      expect(ended.map((report) => report.status)).toEqual(moving.map(() => "success"));
    }
    expect(rounds).toBe(10);
    for (let customer = 0; customer < 10; customer += 1) {
      const snapshot = await gate(workflowId, "concurrency.0", `c${customer}`).stub.snapshot();
      expect(snapshot).toMatchObject({ running: [], waiting: [] });
    }
  }, 180_000);

  it("a queued run says what it waits for, is listed and counted as queued, and cancelling it gives its place back", async () => {
    const { workflowId } = await register(gated("wait-for", { concurrency: [{ limit: 1, holdWhileWaiting: true }] }));
    const first = await start(workflowId, { n: 1 });
    const second = await start(workflowId, { n: 2 });
    const third = await start(workflowId, { n: 3 });
    expect((await reportOf(first)).status).toBe("waiting");
    const report = await reportOf(third);
    expect(report.status).toBe("queued");
    expect(report.flow?.waitingFor).toEqual({ kind: "concurrency", key: "_", running: 1, limit: 1, position: 2 });
    expect(report.steps.every((step) => step.status === "pending")).toBe(true);
    const html = await (await page(`/ui/runs/${third}`, { cookie: await signIn() })).text();
    expect(html).toContain('data-status="queued"');
    expect(html).toMatch(
      /data-waiting-for="concurrency">concurrency slot for key <code>_<\/code>: position 2 in the queue, 1 of 1 running/,
    );

    const listed = await api(`/api/runs?workflow=${workflowId}&status=queued`);
    expect(((await listed.json()) as { runs: { runId: string }[] }).runs.map((run) => run.runId).sort()).toEqual(
      [second, third].sort(),
    );
    const metrics = (await (await api(`/api/metrics?workflow=${workflowId}`)).json()) as {
      runs: { byStatus: Record<string, number> };
    };
    expect(metrics.runs.byStatus).toMatchObject({ queued: 2, waiting: 1 });

    expect((await api(`/api/runs/${second}/cancel`, { method: "POST" })).status).toBe(200);
    expect((await reportOf(second)).status).toBe("cancelled");
    expect((await reportOf(third)).flow?.waitingFor?.position).toBe(1);
    await sendGo(first);
    expect((await reportOf(third)).status).toBe("waiting");
    expect(await gate(workflowId, "concurrency.0", "_").stub.snapshot()).toMatchObject({
      running: [third],
      waiting: [],
    });
  });

  it("cancelling a running run frees its slot for the next", async () => {
    const { workflowId } = await register(
      gated("cancel-running", { concurrency: [{ limit: 1, holdWhileWaiting: true }] }),
    );
    const first = await start(workflowId, {});
    const second = await start(workflowId, {});
    expect((await reportOf(second)).status).toBe("queued");
    expect((await api(`/api/runs/${first}/cancel`, { method: "POST" })).status).toBe(200);
    await reportOf(first);
    expect((await reportOf(second)).status).toBe("waiting");
  });

  it("a key that fails on an input puts the run under `_` and the report says so; the trigger is never lost", async () => {
    const { workflowId } = await register(
      gated("bad-key", { concurrency: [{ limit: 5, key: "$number(input.customer)" }], priority: "input.rank" }),
    );
    const runId = await start(workflowId, { customer: "not a number", rank: "high" });
    const report: FlowReport = await reportOf(runId);
    expect(report.status).toBe("waiting");
    expect(report.flow?.keys).toEqual({ "concurrency.0": "_" });
    expect(report.flow?.keyErrors?.map((error) => error.part)).toEqual(["concurrency.0", "priority"]);
  });
});
