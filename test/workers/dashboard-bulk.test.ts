import { describe, expect, it } from "vitest";
import { csrfOf, origin, page, signIn } from "./dashboard-support";
import { api, register, settle, startManual } from "./helpers";

const waiting = {
  id: "dash-bulk",
  name: "Dashboard bulk",
  triggers: [{ type: "manual" }],
  nodes: [{ id: "hold", type: "wait", config: { duration: "1h" } }],
  edges: [],
};

function rows(html: string, attribute: string): [string, string][] {
  return [...html.matchAll(new RegExp(`<tr data-run-id="([^"]+)" ${attribute}="([^"]+)"`, "g"))].map((match) => [
    match[1] ?? "",
    match[2] ?? "",
  ]);
}

describe("bulk actions from the runs list", () => {
  it("previews with the bulk API's dry run, changes nothing until confirmed, then acts on every matching run", async () => {
    await register(waiting);
    const runIds = [await startManual("dash-bulk"), await startManual("dash-bulk"), await startManual("dash-bulk")];
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");
    const cookie = await signIn();
    const list = await (await page("/ui/runs?workflow=dash-bulk", { cookie })).text();
    expect(list).toContain('action="/ui/runs/bulk"');
    expect(list).toContain('<input type="hidden" name="workflow" value="dash-bulk"');

    const preview = await page("/ui/runs/bulk?workflow=dash-bulk&action=pause", { cookie });
    expect(preview.status).toBe(200);
    const planned = rows(await preview.text(), "data-will");
    expect(planned.map(([id]) => id).sort()).toEqual([...runIds].sort());
    expect(planned.every(([, will]) => will === "pause")).toBe(true);
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");

    const forged = await page("/ui/runs/bulk", { cookie, form: { csrf: "x", action: "pause", workflow: "dash-bulk" } });
    expect(forged.status).toBe(403);
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");

    const done = await page("/ui/runs/bulk", {
      cookie,
      form: { csrf: await csrfOf(cookie), action: "pause", workflow: "dash-bulk" },
    });
    expect(done.status).toBe(200);
    const outcome = await done.text();
    expect(outcome).toContain("3 done, 0 skipped, 0 refused");
    expect(rows(outcome, "data-outcome").every(([, result]) => result === "done")).toBe(true);
    for (const runId of runIds) expect((await settle(runId)).status).toBe("paused");

    const again = await (await page("/ui/runs/bulk?workflow=dash-bulk&action=pause", { cookie })).text();
    expect(rows(again, "data-will").every(([, will]) => will === "skip")).toBe(true);
    expect(again).toContain("Nothing to do");
  });

  it("acts on the runs the list shows for a time range: its until is inclusive, so the run created at that instant is in both", async () => {
    await register({ ...waiting, id: "dash-bulk-until" });
    const runIds = [await startManual("dash-bulk-until"), await startManual("dash-bulk-until")];
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");
    const listed = (await (await api("/api/runs?workflow=dash-bulk-until")).json()) as {
      runs: { runId: string; createdAt: number }[];
    };
    const times = listed.runs.map((run) => run.createdAt);
    const range = `workflow=dash-bulk-until&from=${Math.min(...times)}&to=${Math.max(...times)}`;
    const cookie = await signIn();
    const list = await (await page(`/ui/runs?${range}`, { cookie })).text();
    expect(
      rows(list, "data-status")
        .map(([id]) => id)
        .sort(),
    ).toEqual([...runIds].sort());
    const preview = await (await page(`/ui/runs/bulk?${range}&action=cancel`, { cookie })).text();
    expect(
      rows(preview, "data-will")
        .map(([id]) => id)
        .sort(),
    ).toEqual([...runIds].sort());
  });

  it("acts on exactly the runs ticked in the list, previewing only those", async () => {
    await register({ ...waiting, id: "dash-bulk-ticked" });
    const runIds = [
      await startManual("dash-bulk-ticked"),
      await startManual("dash-bulk-ticked"),
      await startManual("dash-bulk-ticked"),
    ];
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");
    const [first, second, third] = runIds as [string, string, string];
    const cookie = await signIn();
    const list = await (await page("/ui/runs?workflow=dash-bulk-ticked", { cookie })).text();
    expect(list).toContain('<form id="bulk-select" method="get" action="/ui/runs/bulk"');
    for (const runId of runIds) {
      expect(list).toContain(`name="runId" value="${runId}"`);
      expect(list).toContain(`aria-label="Select run ${runId}"`);
    }

    const ticked = new URLSearchParams([
      ["workflow", "dash-bulk-ticked"],
      ["action", "pause"],
      ["runId", first],
      ["runId", second],
    ]);
    const preview = await page(`/ui/runs/bulk?${ticked}`, { cookie });
    expect(preview.status).toBe(200);
    const previewed = await preview.text();
    expect(
      rows(previewed, "data-will")
        .map(([id]) => id)
        .sort(),
    ).toEqual([first, second].sort());
    expect(previewed).toContain(`<input type="hidden" name="runId" value="${first}"`);
    expect(previewed).toContain(`<input type="hidden" name="runId" value="${second}"`);
    expect(previewed).not.toContain(`value="${third}"`);
    for (const runId of runIds) expect((await settle(runId)).status).toBe("waiting");

    const confirm = new URLSearchParams(ticked);
    confirm.set("csrf", await csrfOf(cookie));
    const done = await page("/ui/runs/bulk", {
      cookie,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin },
      body: confirm.toString(),
    });
    expect(done.status).toBe(200);
    const outcome = await done.text();
    expect(outcome).toContain("2 done, 0 skipped, 0 refused");
    expect(
      rows(outcome, "data-outcome")
        .map(([id]) => id)
        .sort(),
    ).toEqual([first, second].sort());
    expect((await settle(first)).status).toBe("paused");
    expect((await settle(second)).status).toBe("paused");
    expect((await settle(third)).status).toBe("waiting");
  });

  it("offers ticking runs on a list filtered by run id, and refuses a ticked value that is not a run id", async () => {
    await register(waiting);
    const runId = await startManual("dash-bulk");
    await settle(runId);
    const cookie = await signIn();
    const list = await (await page(`/ui/runs?q=${runId}`, { cookie })).text();
    expect(list).toContain(`aria-label="Select run ${runId}"`);
    expect(list).toContain("With the ticked runs:");
    const bad = await page("/ui/runs/bulk?action=cancel&runId=run_nope", { cookie });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Not a run id: run_nope.");
  });

  const refusals = [
    "action=pause",
    "action=explode&workflow=dash-bulk",
    "workflow=dash-bulk",
    "action=cancel&status=bogus",
    "action=cancel&q=run_01234567",
  ];
  it.each(refusals)("refuses ?%s with a page that says why", async (query) => {
    const cookie = await signIn();
    const response = await page(`/ui/runs/bulk?${query}`, { cookie });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Bulk action not possible");
  });
});
