import { describe, expect, it } from "vitest";
import { page, signIn } from "./dashboard-support";
import { register, settle, startManual } from "./helpers";

/** Query strings nobody should send: each page answers them with a page, never a server error. */
const junk = [
  "",
  "status=bogus&window=forever&workflow=%00",
  "cursor=%%%&from=9999-99-99&to=-1",
  `q=${"x".repeat(3000)}`,
  "version=-1&from=abc&to=1e400&step=../../x&inline=maybe",
  "action=explode&runId=not-a-run&runId=run_x",
  `did=%3Cscript%3E&requeued=run_'%20OR%201=1--&refused=${"r".repeat(1000)}`,
  `window=1h&workflow=${"w".repeat(1000)}`,
  "%E0%A4%A=1&status[]=failed&limit=-1",
];

describe("every dashboard page with junk query strings", () => {
  it("answers each page and query string without a server error", async () => {
    await register({
      id: "dash-junk",
      name: "Junk",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
      edges: [],
    });
    const runId = await startManual("dash-junk");
    await settle(runId);
    const cookie = await signIn();
    const paths = [
      "/ui/runs",
      "/ui/runs/bulk",
      `/ui/runs/${runId}`,
      `/ui/runs/${runId}/row`,
      `/ui/runs/${runId}/confirm/replay`,
      `/ui/runs/${runId}/confirm/event`,
      "/ui/runs/run_0000000000000000000000000a",
      "/ui/dead-letters",
      "/ui/workflows",
      "/ui/workflows/dash-junk",
      "/ui/workflows/no-such-workflow",
      "/ui/approvals",
      "/ui/metrics",
      "/ui/login",
      "/ui/nowhere",
    ];
    const statuses: Record<string, number> = {};
    for (const path of paths) {
      for (const query of junk) {
        const response = await page(`${path}${query ? `?${query}` : ""}`, { cookie });
        await response.arrayBuffer();
        statuses[`${path}?${query.slice(0, 30)}`] = response.status;
      }
    }
    const failures = Object.entries(statuses).filter(([, status]) => status >= 500);
    expect(failures).toEqual([]);
    // Pages that exist answer 200 or a 4xx that says what was wrong; unknown ids are 404.
    expect(statuses["/ui/runs/run_0000000000000000000000000a?"]).toBe(404);
    expect(statuses["/ui/workflows/no-such-workflow?"]).toBe(404);
    expect(statuses["/ui/runs?"]).toBe(200);
  });
});
