import { describe, expect, it } from "vitest";
import { register, settle, startManual } from "./helpers";
import { busiestMinute, driveToEnd, limitObject, llmQuota } from "./limits-support";
import { llmServer, llmStep, uniqueModel } from "./llm-helpers";

/** A workflow of `steps` llm steps in a row, all on one provider and model. */
async function chain(id: string, provider: string, model: string, steps: number, retry?: unknown): Promise<void> {
  const nodes = Array.from({ length: steps }, (_, index) => ({
    id: `s${index + 1}`,
    type: "llm",
    config: { provider, model, prompt: `step ${index + 1} of {{ run.id }}`, output: `s${index + 1}` },
    ...(retry ? { retry } : {}),
  }));
  const edges = nodes.slice(1).map((node, index) => ({ from: `s${index + 1}`, to: node.id }));
  await register({ id, name: id, triggers: [{ type: "manual" }], nodes, edges });
}

describe("LLM provider limits", () => {
  it("hold two runs to the provider's 2 requests a minute: the server never sees more, every step ends", async () => {
    // `metered` has limits {requestsPerMinute: 2}; the server holds the model to the same quota
    // and would answer 429 to a third request in any minute.
    const model = uniqueModel("metered");
    const limit = limitObject("llm:metered");
    const t0 = Date.now();
    const setClocks = async (at: number) => {
      await limit.setClock(at);
      await llmQuota.clock(model, at);
    };
    await setClocks(t0);
    await llmQuota.quota(model, 2);
    await chain("limits-metered", "metered", model, 3);
    const runs = [await startManual("limits-metered"), await startManual("limits-metered")];

    // Each run's first step asked at once: one went, the other waits its turn on its run's alarm.
    const started = await Promise.all(runs.map((runId) => settle(runId)));
    const first = started.map((report) => llmStep(report, "s1"));
    expect(first.map((step) => step.status).sort()).toEqual(["success", "waiting"]);
    const waiting = first.find((step) => step.status === "waiting");
    expect(waiting).toMatchObject({
      attempts: 1,
      deferred: { limit: "llm:metered", reason: "rate", until: t0 + 30_000 },
    });

    const { reports, fired } = await driveToEnd(runs, setClocks);
    for (const report of reports) {
      expect(report.status).toBe("success");
      // Waiting spent no attempt: every step made exactly one call.
      for (const step of report.steps) expect(step).toMatchObject({ status: "success", attempts: 1, deferred: null });
    }
    const requests = await llmServer.requests(model);
    expect(requests).toHaveLength(6);
    expect(requests.filter((request) => request.overQuota)).toEqual([]);
    expect(busiestMinute(requests.map((request) => request.at))).toBe(2);
    // The calls went at their turns, half a minute apart, in the order they asked.
    expect(requests.map((request) => request.at - t0)).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000]);
    expect(fired.length).toBeGreaterThanOrEqual(5);
    const deferrals = reports.flatMap((report) => report.steps.map((step) => step.history[0]?.deferrals ?? 0));
    expect(deferrals.reduce((sum, count) => sum + count, 0)).toBe(5);
    const snapshot = await limit.stub.snapshot();
    expect(snapshot?.state.counts).toMatchObject({ calls: 6, succeeded: 6, failed: 0 });
  });

  it("opens a provider's circuit on 5xx answers and closes it when the probe succeeds, losing no step", async () => {
    // `fragile` has limits {circuit: {minimumCalls: 2, coolDown: "30s"}}.
    const model = uniqueModel("fragile");
    const limit = limitObject("llm:fragile");
    const t0 = Date.now();
    await limit.setClock(t0);
    await llmServer.script(model, [{ status: 500 }, { status: 500 }]);
    await chain("limits-fragile", "fragile", model, 1, { maxAttempts: 3, backoff: "fixed", initialDelay: "1s" });
    const runs = [await startManual("limits-fragile"), await startManual("limits-fragile")];
    for (const runId of runs) {
      expect(llmStep(await settle(runId), "s1")).toMatchObject({
        status: "waiting",
        error: { code: "llm.provider_error" },
      });
    }
    runs.push(await startManual("limits-fragile"));
    expect(llmStep(await settle(runs[2] as string), "s1")).toMatchObject({
      status: "waiting",
      deferred: { limit: "llm:fragile", reason: "circuit", until: t0 + 30_000 },
    });
    expect(await llmServer.requests(model)).toHaveLength(2);
    const { reports } = await driveToEnd(runs, (at) => limit.setClock(at));
    expect(reports.map((report) => report.status)).toEqual(["success", "success", "success"]);
    expect(await llmServer.requests(model)).toHaveLength(5);
    expect((await limit.stub.snapshot())?.state.circuit).toMatchObject({ status: "closed", opens: 1 });
  });

  it("slows every run of a provider after a 429 with Retry-After", async () => {
    const model = uniqueModel("throttled");
    const limit = limitObject("llm:throttled");
    const t0 = Date.now();
    const setClocks = async (at: number) => {
      await limit.setClock(at);
      await llmQuota.clock(model, at);
    };
    await setClocks(t0);
    await llmServer.script(model, [{ status: 429, headers: { "retry-after": "20" } }]);
    await chain("limits-throttled", "throttled", model, 1, { maxAttempts: 3, backoff: "fixed", initialDelay: "1s" });
    const first = await startManual("limits-throttled");
    const failed = llmStep(await settle(first), "s1");
    expect(failed).toMatchObject({ status: "waiting", attempts: 1, error: { code: "llm.rate_limited" } });

    // Another run, a second later: it does not call and get a 429 too; it waits out the provider's 20 s.
    await setClocks(t0 + 1_000);
    const second = await startManual("limits-throttled");
    expect(llmStep(await settle(second), "s1")).toMatchObject({
      status: "waiting",
      attempts: 1,
      error: null,
      deferred: { limit: "llm:throttled", reason: "retry-after", until: t0 + 20_000 },
    });
    expect(await llmServer.requests(model)).toHaveLength(1);

    const { reports } = await driveToEnd([first, second], setClocks);
    expect(reports.map((report) => report.status)).toEqual(["success", "success"]);
    const requests = await llmServer.requests(model);
    expect(requests).toHaveLength(3);
    for (const request of requests.slice(1)) expect(request.at).toBeGreaterThanOrEqual(t0 + 20_000);
    expect((await limit.stub.snapshot())?.state.counts).toMatchObject({
      rateLimited: 1,
      deferred: { "retry-after": 1 },
    });
  });
});
