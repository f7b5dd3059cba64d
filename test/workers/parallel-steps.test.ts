import { describe, expect, it } from "vitest";
import { settle } from "./helpers";
import { fanOut, leasesOf, spyQueue, startWithQueue } from "./steps-support";
import { testServer } from "./support";

describe("parallel io steps through the steps queue", () => {
  it("runs a 100-way http fan-out through the queue and joins all 100 outputs", async () => {
    const { queue, sent } = spyQueue({ drop: false });
    const definition = fanOut("fan-100", 100, testServer.url);
    const runId = await startWithQueue(definition, {}, queue);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(sent.messages).toHaveLength(100);
    expect(sent.batches).toBe(1);
    const expected = Array.from({ length: 100 }, (_, index) => `/fan-100/call${index}`);
    expect(report.context.paths).toEqual(expected);
    const calls = report.steps.filter((step) => step.nodeId.startsWith("call"));
    expect(calls).toHaveLength(100);
    for (const step of calls) expect(step).toMatchObject({ status: "success", attempts: 1 });
    expect(report.steps.find((step) => step.nodeId === "join")).toMatchObject({ status: "success", attempts: 1 });
    const requests = (await testServer.requests()).filter((request) => request.path.startsWith("/fan-100/"));
    expect(requests).toHaveLength(100);
    expect(new Set(requests.map((request) => request.headers["idempotency-key"])).size).toBe(100);
    expect(await leasesOf(runId)).toEqual([]);
  });
});
