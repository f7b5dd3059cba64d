import { describe, expect, it } from "vitest";
import { csrfOf, page, signIn } from "./dashboard-support";
import { api, register, settle, startManual } from "./helpers";

const branching = {
  id: "dash-branch",
  name: "Dashboard branch",
  triggers: [{ type: "manual" }],
  nodes: [
    { id: "score", type: "transform", config: { set: { score: "input.amount * 2" } } },
    { id: "route", type: "branch", config: { cases: [{ when: "score > 10", to: "big" }], default: "small" } },
    { id: "big", type: "transform", config: { set: { size: "'big'" } } },
    { id: "small", type: "transform", config: { set: { size: "'small'" } } },
  ],
  edges: [
    { from: "score", to: "route" },
    { from: "route", to: "big" },
    { from: "route", to: "small" },
  ],
};

const waiting = {
  id: "dash-wait",
  name: "Dashboard wait",
  triggers: [{ type: "manual" }],
  nodes: [{ id: "hold", type: "wait", config: { duration: "1h" } }],
  edges: [],
};

const failing = {
  id: "dash-fail",
  name: "Dashboard failing",
  triggers: [{ type: "manual" }],
  nodes: [{ id: "boom", type: "transform", config: { set: { x: "$error('boom')" } } }],
  edges: [],
};

/** `data-*` attribute pairs of the elements that carry `key`, in page order. */
function attributes(html: string, key: string, value: string): [string, string][] {
  const pattern = new RegExp(`${key}="([^"]+)"[^>]*?${value}="([^"]+)"`, "g");
  return [...html.matchAll(pattern)].map((match) => [match[1] ?? "", match[2] ?? ""]);
}

describe("one run's page", () => {
  it("answers an unknown or impossible run id with a 404 page", async () => {
    const cookie = await signIn();
    for (const id of ["run_0000000000000000000000000a", "not-a-run", "run_%3Cscript%3E"]) {
      const response = await page(`/ui/runs/${id}`, { cookie });
      expect(response.status, id).toBe(404);
      expect(await response.text()).toContain("Run not found");
    }
  });

  it("draws every node with its status, taken and skipped edges, and a timeline row per step", async () => {
    await register(branching);
    const runId = await startManual("dash-branch", { amount: 7 });
    const report = await settle(runId);
    const cookie = await signIn();
    const response = await page(`/ui/runs/${runId}`, { cookie });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(attributes(html, "data-node-id", "data-status")).toEqual([
      ["score", "success"],
      ["route", "success"],
      ["big", "success"],
      ["small", "skipped"],
    ]);
    expect(attributes(html, "data-to", "data-state")).toEqual([
      ["route", "taken"],
      ["big", "taken"],
      ["small", "skipped"],
    ]);
    expect(attributes(html, "data-step", "data-status")).toEqual(
      report.steps.map((step) => [step.nodeId, step.status]),
    );
    // One bar per attempt.
    expect([...html.matchAll(/<rect class="bar o-success"/g)].length).toBe(3);
    expect(html).not.toContain("hx-trigger");
  });

  it("says why a step was skipped when the run failed before reaching it, and not for an untaken branch", async () => {
    await register({
      id: "dash-fail-early",
      name: "Dashboard failing early",
      triggers: [{ type: "manual" }],
      nodes: [
        { id: "boom", type: "transform", config: { set: { x: "$error('boom')" } } },
        { id: "after", type: "log", config: { message: "never" } },
      ],
      edges: [{ from: "boom", to: "after" }],
    });
    const runId = await startManual("dash-fail-early", {});
    expect((await settle(runId)).status).toBe("failed");
    const cookie = await signIn();
    const html = await (await page(`/ui/runs/${runId}`, { cookie })).text();
    const row = /<tr data-step="after"[\s\S]*?<\/tr>/.exec(html)?.[0] ?? "";
    expect(row).toContain('data-status="skipped"');
    expect(row).toContain("the run failed first");
    await register(branching);
    const branched = await settle(await startManual("dash-branch", { amount: 7 }));
    const branchHtml = await (await page(`/ui/runs/${branched.runId}`, { cookie })).text();
    const skippedRow = /<tr data-step="small"[\s\S]*?<\/tr>/.exec(branchHtml)?.[0] ?? "";
    expect(skippedRow).toContain('data-status="skipped"');
    expect(skippedRow).not.toContain("first");
  });

  it("shows a step's panel, the context at a version, and the diff between two versions", async () => {
    const runId = await startManual("dash-branch", { amount: 2 });
    const report = await settle(runId);
    const cookie = await signIn();
    const stepPage = await (await page(`/ui/runs/${runId}?step=score`, { cookie })).text();
    expect(stepPage).toContain('data-step-panel="score"');
    expect(stepPage).toContain("&quot;score&quot;: 4");
    const atZero = await (await page(`/ui/runs/${runId}?version=0`, { cookie })).text();
    expect(atZero).toContain('aria-label="Context at version 0"');
    expect(atZero).not.toContain("&quot;size&quot;");
    const diff = await (await page(`/ui/runs/${runId}?from=0&to=${report.contextVersion}`, { cookie })).text();
    expect(diff).toContain(`data-diff="0-${report.contextVersion}"`);
    expect(diff).toMatch(/<tr class="add" data-op="add">[\s\S]*?<code>\/score<\/code>/);
    expect(diff).toMatch(/<code>\/size<\/code>[\s\S]*?&quot;small&quot;/);
  });

  const junk = [
    "step=nope",
    "step=%3Cimg%20src=x%3E",
    "version=-1",
    "version=99999999999",
    "version=abc&from=1e9&to=NaN",
    "from=0",
    "to=0&from=",
    "did=%00",
    "version[]=1",
    `step=${"s".repeat(3000)}`,
  ];
  it.each(junk.map((query) => [query.slice(0, 40), query]))("answers ?%s without a server error", async (_, query) => {
    const runId = await startManual("dash-branch", { amount: 1 });
    await settle(runId);
    const cookie = await signIn();
    const response = await page(`/ui/runs/${runId}?${query}`, { cookie });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`data-run-status="success"`);
  });
});

describe("actions on a run", () => {
  it("pauses, resumes and cancels a waiting run through confirmation forms, and lists the operations", async () => {
    await register(waiting);
    const runId = await startManual("dash-wait");
    await settle(runId);
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const live = await (await page(`/ui/runs/${runId}`, { cookie })).text();
    expect(live).toContain(`hx-get="/ui/runs/${runId}"`);
    expect(live).toContain(`href="/ui/runs/${runId}/confirm/pause"`);

    const confirm = await page(`/ui/runs/${runId}/confirm/pause`, { cookie });
    expect(confirm.status).toBe(200);
    const form = await confirm.text();
    expect(form).toContain(`action="/ui/runs/${runId}/actions/pause"`);
    expect(form).toContain(`name="csrf" value="${csrf}"`);
    expect((await settle(runId)).status).toBe("waiting");

    const paused = await page(`/ui/runs/${runId}/actions/pause`, { cookie, form: { csrf, reason: "checking" } });
    expect(paused.status).toBe(303);
    expect(paused.headers.get("location")).toBe(`/ui/runs/${runId}?did=pause`);
    expect((await settle(runId)).status).toBe("paused");
    expect(await (await page(`/ui/runs/${runId}?did=pause`, { cookie })).text()).toContain("The run is paused.");

    const notNow = await page(`/ui/runs/${runId}/confirm/pause`, { cookie });
    expect(notNow.status).toBe(409);

    expect((await page(`/ui/runs/${runId}/actions/resume`, { cookie, form: { csrf } })).status).toBe(303);
    expect((await settle(runId)).status).toBe("waiting");
    expect((await page(`/ui/runs/${runId}/actions/cancel`, { cookie, form: { csrf } })).status).toBe(303);
    expect((await settle(runId)).status).toBe("cancelled");

    const after = await (await page(`/ui/runs/${runId}`, { cookie })).text();
    expect([...after.matchAll(/<tr data-operation="([a-z]+)"/g)].map((match) => match[1])).toEqual([
      "cancel",
      "resume",
      "pause",
    ]);
  });

  it("refuses an action without the form token and changes nothing", async () => {
    const runId = await startManual("dash-wait");
    await settle(runId);
    const cookie = await signIn();
    const response = await page(`/ui/runs/${runId}/actions/cancel`, { cookie, form: { csrf: "nope" } });
    expect(response.status).toBe(403);
    expect((await settle(runId)).status).toBe("waiting");
    const crossSite = await page(`/ui/runs/${runId}/actions/cancel`, {
      cookie,
      form: { csrf: await csrfOf(cookie) },
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect((await settle(runId)).status).toBe("waiting");
  });

  it("retries a failed run, says why when the API would refuse, and deletes an ended run", async () => {
    await register(failing);
    const runId = await startManual("dash-fail");
    expect((await settle(runId)).status).toBe("failed");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const failedPage = await (await page(`/ui/runs/${runId}`, { cookie })).text();
    expect(failedPage).toContain(`href="/ui/runs/${runId}/confirm/retry"`);

    const retried = await page(`/ui/runs/${runId}/actions/retry`, { cookie, form: { csrf, latest: "true" } });
    expect(retried.status).toBe(303);
    expect((await settle(runId)).status).toBe("failed");

    const refused = await page(`/ui/runs/${runId}/actions/resume`, { cookie, form: { csrf } });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("Not done");

    const deleted = await page(`/ui/runs/${runId}/actions/delete`, { cookie, form: { csrf } });
    expect(deleted.status).toBe(303);
    expect((await page(`/ui/runs/${runId}`, { cookie })).status).toBe(404);
  });

  it("replays from a step with edited context, refusing edits that are not a JSON object before sending anything", async () => {
    const runId = await startManual("dash-branch", { amount: 2 });
    expect((await settle(runId)).context.size).toBe("small");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const confirm = await (await page(`/ui/runs/${runId}/confirm/replay`, { cookie })).text();
    expect([...confirm.matchAll(/<option value="([^"]+)"/g)].map((match) => match[1])).toEqual([
      "score",
      "route",
      "small",
    ]);

    const operations = async () =>
      ((await (await api(`/api/runs/${runId}/operations`)).json()) as { operations: unknown[] }).operations;
    const bad = [
      ["{not json", "not valid JSON"],
      ["[1, 2]", "must be a JSON object"],
      ['{"run": {"id": "x"}}', "cannot edit run"],
    ];
    for (const [context, reason] of bad) {
      const refused = await page(`/ui/runs/${runId}/actions/replay`, {
        cookie,
        form: { csrf, fromNode: "score", context: context ?? "" },
      });
      expect(refused.status, context).toBe(422);
      const html = await refused.text();
      expect(html).toContain(reason);
      expect(html).toContain('role="alert"');
    }
    expect(await operations()).toEqual([]);

    const replayed = await page(`/ui/runs/${runId}/actions/replay`, {
      cookie,
      form: { csrf, fromNode: "score", context: '{"input": {"amount": 20}}' },
    });
    expect(replayed.status).toBe(303);
    const location = replayed.headers.get("location") ?? "";
    const newRunId = /^\/ui\/runs\/(run_[^?]+)\?did=replay$/.exec(location)?.[1] ?? "";
    expect(newRunId).not.toBe(runId);
    const report = await settle(newRunId);
    expect(report.replayOf).toEqual({ runId, fromNode: "score" });
    expect(report.context.size).toBe("big");
    const shown = await (await page(location, { cookie })).text();
    expect(shown).toContain("This is the replay");
    expect(shown).toContain(`href="/ui/runs/${runId}"`);
    expect(await operations()).toHaveLength(1);
  });
});

describe("delivering an event from the run page", () => {
  it("fills in the awaited event's name, refuses a payload that is not JSON, and delivers one that is", async () => {
    await register({
      id: "dash-event",
      name: "Dashboard event",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "hold", type: "wait", config: { event: "go", timeout: "1h", output: "got" } }],
      edges: [],
    });
    const runId = await startManual("dash-event");
    expect((await settle(runId)).status).toBe("waiting");
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const confirm = await (await page(`/ui/runs/${runId}/confirm/event`, { cookie })).text();
    expect(confirm).toContain('name="name" type="text" required="" maxlength="100" value="go"');

    const badName = await page(`/ui/runs/${runId}/actions/event`, {
      cookie,
      form: { csrf, name: "no spaces", payload: "{}" },
    });
    expect(badName.status).toBe(422);
    const badPayload = await page(`/ui/runs/${runId}/actions/event`, {
      cookie,
      form: { csrf, name: "go", payload: "{" },
    });
    expect(badPayload.status).toBe(422);
    expect(await badPayload.text()).toContain("not valid JSON");
    expect((await settle(runId)).status).toBe("waiting");

    const delivered = await page(`/ui/runs/${runId}/actions/event`, {
      cookie,
      form: { csrf, name: "go", payload: '{"ok": true}', id: "e-1" },
    });
    expect(delivered.status).toBe(303);
    expect(delivered.headers.get("location")).toBe(`/ui/runs/${runId}?did=event-consumed`);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(JSON.stringify(report.context.got)).toContain('"ok":true');
  });
});

describe("large context values", () => {
  it("shows them as references, and opens them when asked", async () => {
    await register({
      id: "dash-big",
      name: "Dashboard big value",
      triggers: [{ type: "manual" }],
      nodes: [{ id: "fill", type: "transform", config: { set: { big: "$pad('start', 70000, 'y')" } } }],
      edges: [],
    });
    const runId = await startManual("dash-big");
    expect((await settle(runId)).status).toBe("success");
    const cookie = await signIn();
    const html = await (await page(`/ui/runs/${runId}`, { cookie })).text();
    expect(html).toContain("&quot;$signalbox.blob&quot;");
    expect(html).toContain(`href="/ui/runs/${runId}?version=1&amp;inline=1#context"`);
    expect(html).not.toContain("startyyyy");
    const opened = await (await page(`/ui/runs/${runId}?version=1&inline=1`, { cookie })).text();
    expect(opened).toContain("&quot;big&quot;: &quot;startyyyy");
    expect(opened).toContain("Show them as references");
  });
});
