import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RunObject } from "../../src/run/run-object";
import { reportOf, settleTree } from "./children-helpers";
import { api, register, startManual } from "./helpers";
import { runObject } from "./support";

describe("child runs survive losing their objects", () => {
  it("a parent and its waiting children, all aborted, finish once the children's events come", async () => {
    await register({
      id: "durable-waiter",
      name: "Waiter",
      nodes: [{ id: "wait", type: "wait", config: { event: "go", timeout: "1h", output: "got" } }],
      output: "got.payload",
    });
    await register({
      id: "durable-parent",
      name: "Parent",
      nodes: [
        {
          id: "each",
          type: "map",
          config: { items: "[0, 1, 2]", body: { workflow: "durable-waiter" }, output: "out" },
        },
      ],
    });
    const runId = await startManual("durable-parent");
    expect((await settleTree(runId)).status).toBe("waiting");
    await abortAllDurableObjects();

    for (const index of [0, 1, 2]) {
      const response = await api(`/api/runs/${runId}.each.1.${index}/events/go`, {
        method: "POST",
        json: { payload: { n: index } },
      });
      expect(response.status).toBeLessThan(300);
    }
    const report = await settleTree(runId);
    expect(report.status).toBe("success");
    expect(report.context.out).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    // Every call to another run went through: no link job is left on either side.
    for (const id of [runId, `${runId}.each.1.0`]) {
      const left = await runInDurableObject(runObject(id), async (_instance: RunObject, state) =>
        state.storage.sql.exec<{ id: string }>("SELECT id FROM links").toArray(),
      );
      expect(left).toEqual([]);
    }
    expect((await reportOf(`${runId}.each.1.2`)).output).toEqual({ n: 2 });
  });
});
