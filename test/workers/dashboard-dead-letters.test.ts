import { describe, expect, it } from "vitest";
import { csrfOf, page, signIn } from "./dashboard-support";
import { api, register, settle, startManual } from "./helpers";

const failing = {
  id: "dash-dead",
  name: "Dashboard dead letter",
  triggers: [{ type: "manual" }],
  nodes: [{ id: "boom", type: "transform", config: { set: { x: "$error('boom')" } } }],
  edges: [],
};

describe("the dead letters page", () => {
  it("says there are none when no run failed", async () => {
    const cookie = await signIn();
    const response = await page("/ui/dead-letters", { cookie });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("No dead letters");
  });

  it("lists a failed run with its failed step, and requeues it as the API does", async () => {
    await register(failing);
    const runId = await startManual("dash-dead");
    expect((await settle(runId)).status).toBe("failed");
    const cookie = await signIn();
    const html = await (await page("/ui/dead-letters?workflow=dash-dead", { cookie })).text();
    expect(html).toContain(`<tr data-run-id="${runId}">`);
    expect(html).toContain("<code>boom</code> (transform, 1 attempts)");
    expect(html).toContain(`action="/ui/dead-letters/${runId}/requeue"`);

    const requeued = await page(`/ui/dead-letters/${runId}/requeue`, {
      cookie,
      form: { csrf: await csrfOf(cookie), back: "/ui/dead-letters?workflow=dash-dead" },
    });
    expect(requeued.status).toBe(303);
    expect(requeued.headers.get("location")).toBe(`/ui/dead-letters?workflow=dash-dead&requeued=${runId}`);
    const report = await settle(runId);
    expect(report.steps[0]?.attempts).toBe(2);
    const { operations } = (await (await api(`/api/runs/${runId}/operations`)).json()) as {
      operations: { operation: string }[];
    };
    expect(operations.map((entry) => entry.operation)).toEqual(["requeue"]);
    expect(await (await page(requeued.headers.get("location") ?? "", { cookie })).text()).toContain(
      `Requeued ${runId}`,
    );
  });

  it("refuses a requeue without the form token, and reports one the run refuses", async () => {
    const runId = await startManual("dash-dead");
    await settle(runId);
    const cookie = await signIn();
    expect((await page(`/ui/dead-letters/${runId}/requeue`, { cookie, form: { csrf: "x" } })).status).toBe(403);
    const ended = await page("/ui/dead-letters/run_0000000000000000000000000a/requeue", {
      cookie,
      form: { csrf: await csrfOf(cookie), back: "//evil.example/x" },
    });
    expect(ended.status).toBe(303);
    expect(ended.headers.get("location")).toMatch(/^\/ui\/dead-letters\?refused=/);
  });

  it.each([
    "cursor=%%%",
    "workflow=",
    `workflow=${"w".repeat(500)}`,
    "cursor=bm9wZQ",
    "requeued=<b>",
    "refused=<b>x</b>",
  ])("answers ?%s without a server error", async (query) => {
    const cookie = await signIn();
    const response = await page(`/ui/dead-letters?${query}`, { cookie });
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain("<b>x</b>");
  });
});
