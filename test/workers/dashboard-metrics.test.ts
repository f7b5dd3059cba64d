import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sortableId } from "../../src/lib/ids";
import { page, signIn } from "./dashboard-support";

async function insertRun(workflowId: string, status: string, createdAt: number, costUsd: number) {
  await env.DB.prepare(
    `INSERT INTO runs (id, workflow_id, version, status, trigger_type, created_at, updated_at, llm_input_tokens, llm_output_tokens, llm_cost_usd)
     VALUES (?1, ?2, 1, ?3, 'manual', ?4, ?4, 100, 50, ?5)`,
  )
    .bind(sortableId("run", createdAt), workflowId, status, createdAt, costUsd)
    .run();
}

function figure(html: string, name: string): string {
  return new RegExp(`data-metric="${name}">[\\s\\S]*?<div class="figure-value">([^<]*)<`).exec(html)?.[1] ?? "";
}

describe("the metrics page", () => {
  it("shows the window's figures, runs over time by status and LLM cost, per workflow", async () => {
    const now = Date.now();
    await insertRun("m-one", "success", now - 3 * 3_600_000, 0.5);
    await insertRun("m-one", "failed", now - 3 * 3_600_000, 0.25);
    await insertRun("m-one", "success", now - 60_000, 0);
    await insertRun("m-two", "success", now - 60_000, 1);
    await insertRun("m-two", "success", now - 3 * 86_400_000, 1);
    const cookie = await signIn();

    const day = await (await page("/ui/metrics?window=24h", { cookie })).text();
    expect(figure(day, "runs")).toBe("4");
    expect(figure(day, "success-rate")).toBe("75.0 %");
    expect([...day.matchAll(/<g data-bucket="/g)].length).toBe(24);
    expect([...day.matchAll(/<rect class="bar s-failed"/g)].length).toBe(1);
    expect(figure(day, "llm")).toBe("600 · $1.75");

    const one = await (await page("/ui/metrics?window=24h&workflow=m-one", { cookie })).text();
    expect(figure(one, "runs")).toBe("3");
    const week = await (await page("/ui/metrics?window=7d", { cookie })).text();
    expect(figure(week, "runs")).toBe("5");
    expect([...week.matchAll(/<g data-bucket="/g)].length).toBe(28);
  });

  it.each(["window=2y", "window=", "window=-1h&workflow=", `workflow=${"w".repeat(400)}`, "window[]=1h"])(
    "answers ?%s without a server error",
    async (query) => {
      const cookie = await signIn();
      const response = await page(`/ui/metrics?${query}`, { cookie });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("<h1>Metrics</h1>");
    },
  );
});
