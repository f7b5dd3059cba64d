import { describe, expect, it } from "vitest";
import { api } from "./helpers";

describe("the benchmark's routes", () => {
  it.each([
    ["POST", "/api/__bench/seed-runs"],
    ["POST", "/api/__bench/seed-approvals"],
    ["POST", "/api/__bench/seed-run"],
    ["GET", "/api/__bench/plans"],
  ])("%s %s is 404 route.not_found without the BENCH var, and touches nothing", async (method, path) => {
    const response = await api(
      path,
      method === "POST"
        ? { method, json: { from: 0, count: 10, workflowId: "bench-wf-0", attemptsPerStep: 3 } }
        : { method },
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "route.not_found" } });
    const runs = await api("/api/runs?workflow=bench-wf-0");
    expect(((await runs.json()) as { runs: unknown[] }).runs).toEqual([]);
  });
});
