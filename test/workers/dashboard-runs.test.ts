import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sortableId } from "../../src/lib/ids";
import { database } from "../../src/store/db";
import { countRunsByStatus, searchRuns } from "../../src/store/run-search";
import { page, signIn } from "./dashboard-support";
import { register, settle, startManual } from "./helpers";

const base = Date.UTC(2026, 10, 20, 12, 0, 0);

/** A run row as the checkpointer writes it, for lists that need many runs in known states. */
async function insertRun(row: {
  id: string;
  workflowId: string;
  status: string;
  createdAt: number;
  errorCode?: string;
  parentRunId?: string;
}) {
  await env.DB.prepare(
    `INSERT INTO runs (id, workflow_id, version, status, trigger_type, created_at, updated_at, error_code, parent_run_id)
     VALUES (?1, ?2, 1, ?3, 'manual', ?4, ?4, ?5, ?6)`,
  )
    .bind(row.id, row.workflowId, row.status, row.createdAt, row.errorCode ?? null, row.parentRunId ?? null)
    .run();
}

/** The run ids of the list's rows, in page order. */
function rowIds(html: string): string[] {
  return [...html.matchAll(/<tr data-run-id="([^"]+)"/g)].map((match) => match[1] ?? "");
}

describe("the runs list", () => {
  it("says how to start the first run when there are none", async () => {
    const cookie = await signIn();
    const response = await page("/ui/runs", { cookie });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("No runs yet");
    expect(html).toContain("http://signalbox.test/hooks/support-ticket");
    expect(rowIds(html)).toEqual([]);
  });

  const seeded: string[] = [];
  it("lists runs newest first, 50 a page, and pages by cursor without skipping or repeating", async () => {
    for (let index = 0; index < 60; index++) {
      const createdAt = base + index * 60_000;
      const id = sortableId("run", createdAt);
      seeded.push(id);
      await insertRun({
        id,
        workflowId: index % 2 === 0 ? "billing" : "intake",
        status: index % 3 === 0 ? "failed" : index % 3 === 1 ? "success" : "running",
        createdAt,
        ...(index % 3 === 0 ? { errorCode: index % 2 === 0 ? "node.http_status" : "node.timeout" } : {}),
      });
    }
    const cookie = await signIn();
    const first = await (await page("/ui/runs", { cookie })).text();
    const newestFirst = [...seeded].reverse();
    expect(rowIds(first)).toEqual(newestFirst.slice(0, 50));
    const next = /href="(\/ui\/runs\?cursor=[^"]+)" rel="next"/.exec(first)?.[1];
    expect(next).toBeDefined();
    const second = await (await page((next ?? "").replaceAll("&amp;", "&"), { cookie })).text();
    expect(rowIds(second)).toEqual(newestFirst.slice(50));
    expect(second).not.toContain('rel="next"');
    expect(second).toContain("Newest runs");
  });

  it("filters by workflow, status, error code, time range and run id, and counts by status", async () => {
    const cookie = await signIn();
    const html = async (query: string) => (await page(`/ui/runs?${query}`, { cookie })).text();

    const billingFailed = await html("workflow=billing&status=failed");
    const expected = seeded.filter((_, index) => index % 2 === 0 && index % 3 === 0).reverse();
    expect(rowIds(billingFailed)).toEqual(expected);
    // Counts leave the status filter out: every status of the billing runs is counted.
    expect(billingFailed).toMatch(/data-count-status="failed"[\s\S]*?<strong>10<\/strong>/);
    expect(billingFailed).toMatch(/data-count-status="running"[\s\S]*?<strong>10<\/strong>/);

    expect(rowIds(await html("error=node.timeout"))).toEqual(
      seeded.filter((_, index) => index % 2 === 1 && index % 3 === 0).reverse(),
    );
    const from = new Date(base + 10 * 60_000).toISOString().slice(0, 16);
    const to = new Date(base + 12 * 60_000).toISOString().slice(0, 16);
    expect(rowIds(await html(`from=${from}&to=${to}`))).toEqual(seeded.slice(10, 13).reverse());
    const target = seeded[7] ?? "";
    expect(rowIds(await html(`q=${target}`))).toEqual([target]);
    expect(rowIds(await html(`q=${target.slice(0, 12)}`)).length).toBeGreaterThan(0);
    expect(await html("workflow=nothing-here")).toContain("No runs match these filters");
  });

  it("shows a parent's child runs", async () => {
    const parent = seeded[0] ?? "";
    const children = [0, 1].map((index) => `${parent}.items.1.${index}`);
    for (const [index, id] of children.entries()) {
      await insertRun({
        id,
        workflowId: "child",
        status: "success",
        createdAt: base + 100 + index,
        parentRunId: parent,
      });
    }
    const cookie = await signIn();
    const html = await (await page(`/ui/runs?parent=${parent}`, { cookie })).text();
    expect(rowIds(html)).toEqual([...children].reverse());
    expect(html).toContain(`child of <a href="/ui/runs/${parent}">`);
  });

  it("makes rows of active runs poll their fragment, and ended rows not", async () => {
    const cookie = await signIn();
    const html = await (await page("/ui/runs?status=running", { cookie })).text();
    const id = rowIds(html)[0] ?? "";
    // The list's rows carry their selection checkbox, which htmx keeps (ticked or not) across the swap.
    expect(html).toContain(`hx-get="/ui/runs/${id}/row?select=1"`);
    const fragment = await page(`/ui/runs/${id}/row?select=1`, { cookie, headers: { "hx-request": "true" } });
    expect(fragment.status).toBe(200);
    const row = await fragment.text();
    expect(row.startsWith(`<tr data-run-id="${id}" data-status="running"`)).toBe(true);
    expect(row).toContain(`id="select-${id}" aria-label="Select run ${id}" hx-preserve="true"`);
    const plain = await (await page(`/ui/runs/${id}/row`, { cookie })).text();
    expect(plain).not.toContain('name="runId"');
    await env.DB.prepare("UPDATE runs SET status = 'success', ended_at = created_at + 5000 WHERE id = ?1")
      .bind(id)
      .run();
    const ended = await (await page(`/ui/runs/${id}/row`, { cookie })).text();
    expect(ended).toContain('data-status="success"');
    expect(ended).not.toContain("hx-get");
    expect(await (await page("/ui/runs/run_nope/row", { cookie })).text()).toBe("");
  });

  it("lists a real run once its checkpoints are flushed, linking to its page", async () => {
    await register({
      id: "dash-linear",
      name: "Dashboard linear",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "a", type: "transform", config: { set: { greeting: "'Hello, ' & input.name" } } }],
      edges: [],
    });
    const runId = await startManual("dash-linear", { name: "Ada" });
    await settle(runId);
    const cookie = await signIn();
    const html = await (await page("/ui/runs?workflow=dash-linear", { cookie })).text();
    expect(rowIds(html)).toEqual([runId]);
    expect(html).toContain(`<a class="mono" href="/ui/runs/${runId}">`);
    expect(html).toMatch(/<tr data-run-id="[^"]+" data-status="success"/);
  });

  const junk = [
    "status=bogus",
    "status=",
    "from=yesterday&to=9999-99-99",
    "cursor=%%%",
    "cursor=bm90LWEtY3Vyc29y",
    `cursor=${"A".repeat(5000)}`,
    "parent=../../etc",
    "error=<script>alert(1)</script>",
    `q=${"x".repeat(300)}`,
    "q=run_'%20OR%201=1--",
    "workflow=%00%01",
    `workflow=${"w".repeat(1000)}`,
    "from=-99999999999999999999",
    "to=1e400",
    "status[]=failed&status=running&status=success",
    "%E0%A4%A=1",
    "limit=-1&offset=abc",
  ];
  it.each(junk.map((query) => [query.slice(0, 40), query]))("answers ?%s without a server error", async (_, query) => {
    const cookie = await signIn();
    const response = await page(`/ui/runs?${query}`, { cookie });
    expect(response.status).toBeLessThan(500);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<h1>Runs</h1>");
  });

  it("reports bad filter values on the page instead of failing", async () => {
    const cookie = await signIn();
    const html = await (await page("/ui/runs?status=bogus&from=yesterday", { cookie })).text();
    expect(html).toContain("status: not a run status; ignored");
    expect(html).toContain("from: not a date and time; ignored");
  });
});

describe("the run search's queries", () => {
  /** SQLite's plan for the query drizzle builds: every filter must use an index, never scan the table. */
  async function plan(build: (db: ReturnType<typeof database>) => { toSQL(): { sql: string; params: unknown[] } }) {
    const { sql, params } = build(database(env.DB)).toSQL();
    const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return rows.results.map((row) => row.detail).join("\n");
  }

  it("searches through an index for each filter", async () => {
    const { runs } = await import("../../src/store/schema");
    const { and, desc, eq, gte, lt } = await import("drizzle-orm");
    const cases = {
      none: undefined,
      workflow: eq(runs.workflowId, "billing"),
      status: eq(runs.status, "failed"),
      parent: eq(runs.parentRunId, "run_x"),
      error: eq(runs.errorCode, "node.timeout"),
      time: and(gte(runs.createdAt, base), lt(runs.createdAt, base + 1000)),
      id: and(gte(runs.id, "run_0"), lt(runs.id, "run_1")),
      "workflow and status": and(eq(runs.workflowId, "billing"), eq(runs.status, "failed")),
    };
    const plans: Record<string, string> = {};
    for (const [name, where] of Object.entries(cases)) {
      plans[name] = await plan((db) =>
        db.select().from(runs).where(where).orderBy(desc(runs.createdAt), desc(runs.id)).limit(51),
      );
    }
    // No filter walks the creation index newest first and stops at the page size.
    expect(plans.none).toBe("SCAN runs USING INDEX runs_created");
    for (const name of ["workflow", "status", "parent", "error", "time", "id"]) {
      expect(plans[name], name).toMatch(/^SEARCH runs USING (COVERING )?INDEX|^SEARCH runs USING PRIMARY KEY/);
    }
    expect(plans.workflow).toContain("runs_workflow_created");
    expect(plans.status).toContain("runs_status_created");
    expect(plans.error).toContain("runs_error_created");
    // Both equalities and the order from one index: no reading of every failed run to find a workflow's.
    expect(plans["workflow and status"]).toBe(
      "SEARCH runs USING INDEX runs_workflow_status_created (workflow_id=? AND status=?)",
    );
  });

  it("counts and searches the same runs as the page shows", async () => {
    const db = database(env.DB);
    const found = await searchRuns(db, { workflowId: "billing", status: "failed" }, { limit: 100 });
    const counts = await countRunsByStatus(db, { workflowId: "billing" });
    expect(found.runs.length).toBe(counts.failed);
  });
});
