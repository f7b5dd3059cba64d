import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";
import { type LlmRecordedRequest, type LlmServer, startLlmServer } from "../support/llm-server";
import { approvalLink, decideByForm, waitForStatus } from "./approvals";
import { parseJson, runCli } from "./cli-process";
import { type Harness, startHarness, step, uniqueId, waitFor, waitForRunEnd } from "./harness";

const examplesDir = join(projectRoot, "workflows");
let harness: Harness;
let llm: LlmServer;

/**
 * Stands in for a model behind an OpenAI-compatible endpoint: it triages the ticket in the
 * prompt by its words, as support-ticket's analyze step asks, and answers in the schema's JSON.
 */
function triage(request: LlmRecordedRequest) {
  const prompt = String(request.body.messages?.at(-1)?.content ?? "");
  const subject = /^Subject: (.*)$/m.exec(prompt)?.[1] ?? "";
  const body = prompt.split("\n\n")[1] ?? "";
  const urgent = /\b(down|outage|urgent|security|breach|cannot log ?in)\b/i.test(`${subject} ${body}`);
  const summary = (subject !== "(none)" ? subject : body).slice(0, 80);
  return { json: { priority: urgent ? "high" : "low", summary, confidence: 0.9 }, usage: { input: 120, output: 30 } };
}

beforeAll(async () => {
  llm = await startLlmServer({ respond: triage });
  harness = await startHarness({ vars: { LLM_BASE_URL: `${llm.url}/v1`, LLM_MODEL: "e2e-triage" } });
});

afterAll(async () => {
  await harness?.stop();
  await llm?.close();
});

async function versionsOf(workflowId: string): Promise<number[]> {
  const response = await harness.api(`/api/workflows/${workflowId}`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { versions: { version: number }[] };
  return body.versions.map((entry) => entry.version);
}

async function deliver(workflowId: string, payload: unknown): Promise<string> {
  const response = await fetch(`${harness.baseUrl}/hooks/${workflowId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  const body = (await response.json()) as { runId: string };
  expect(response.status, JSON.stringify(body)).toBe(202);
  return body.runId;
}

interface Pushed {
  ok: boolean;
  issues: { file: string; code: string }[];
  results: { file: string; workflowId: string; status: string; version?: number; previousVersion?: number }[];
}

/** `signalbox push --json` over the folder, as `npm run dev` registers it. */
async function push(dir: string): Promise<Pushed> {
  const env = { SIGNALBOX_URL: harness.baseUrl, SIGNALBOX_TOKEN: harness.token };
  return parseJson<Pushed>(await runCli(["push", "--json", "."], { cwd: dir, env }));
}

describe("the example workflows in workflows/", () => {
  const statuses = (pushed: Pushed) => pushed.results.map((result) => [result.file, result.status, result.version]);

  it("all register, callees first, and registering again makes no new version", async () => {
    const first = await push(examplesDir);
    expect(first.issues).toEqual([]);
    const files = first.results.map((result) => result.file);
    expect(files).toEqual(expect.arrayContaining(["hello.json", "pager.json", "support-ticket.json"]));
    expect(files.indexOf("greet-one.json")).toBeLessThan(files.indexOf("greet-many.json"));
    expect(statuses(first)).toEqual(files.map((file) => [file, "created", 1]));

    const second = await push(examplesDir);
    expect(statuses(second)).toEqual(files.map((file) => [file, "unchanged", 1]));
    for (const result of second.results) expect(await versionsOf(result.workflowId)).toEqual([1]);
  });

  it("registers a changed definition as a new version, one relying on defaults only once, and nothing beside a broken file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "signalbox-workflows-"));
    try {
      const workflowId = uniqueId("e2e-defaults");
      // No triggers, no edges: the server fills both in before it compares with its latest version.
      const definition = {
        id: workflowId,
        name: "defaults",
        nodes: [{ id: "only", type: "log", config: { message: "hi" } }],
      };
      await writeFile(join(dir, "defaults.json"), JSON.stringify(definition));
      expect(statuses(await push(dir))).toEqual([["defaults.json", "created", 1]]);
      expect(statuses(await push(dir))).toEqual([["defaults.json", "unchanged", 1]]);

      await writeFile(join(dir, "defaults.json"), JSON.stringify({ ...definition, name: "defaults, renamed" }));
      expect((await push(dir)).results).toMatchObject([{ status: "updated", version: 2, previousVersion: 1 }]);
      expect(await versionsOf(workflowId)).toEqual([2, 1]);

      await writeFile(join(dir, "defaults.json"), JSON.stringify({ ...definition, name: "defaults, again" }));
      await writeFile(join(dir, "broken.json"), "{ not json");
      const refused = await push(dir);
      expect(refused.ok).toBe(false);
      expect(refused.results).toEqual([]);
      expect(refused.issues).toMatchObject([{ file: "broken.json", code: "file.invalid_json" }]);
      expect(await versionsOf(workflowId)).toEqual([2, 1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("registers a workflow after the ones it calls, and refuses a missing or cyclic call whole", async () => {
    const dir = await mkdtemp(join(tmpdir(), "signalbox-workflows-"));
    try {
      const id = uniqueId("e2e-calls");
      const calling = (name: string, ...called: string[]) => ({
        id: `${id}-${name}`,
        name,
        nodes: called.map((target, index) => ({
          id: `call${index}`,
          type: "subworkflow",
          config: { workflow: `${id}-${target}`, output: `out${index}` },
        })),
      });
      const leaf = {
        id: `${id}-z-leaf`,
        name: "leaf",
        nodes: [{ id: "only", type: "log", config: { message: "hi" } }],
      };
      // File order puts the caller before what it calls.
      await writeFile(join(dir, "a-caller.json"), JSON.stringify(calling("a-caller", "z-leaf")));
      await writeFile(join(dir, "z-leaf.json"), JSON.stringify(leaf));
      const pushed = await push(dir);
      expect(pushed.ok).toBe(true);
      expect(statuses(pushed)).toEqual([
        ["z-leaf.json", "created", 1],
        ["a-caller.json", "created", 1],
      ]);

      await writeFile(join(dir, "b-missing.json"), JSON.stringify(calling("b-missing", "nowhere")));
      const missing = await push(dir);
      expect(missing.ok).toBe(false);
      expect(missing.results).toEqual([]);
      expect(missing.issues).toMatchObject([{ file: "b-missing.json", code: "definition.workflow_not_found" }]);
      await rm(join(dir, "b-missing.json"));

      await writeFile(join(dir, "c-loop.json"), JSON.stringify(calling("c-loop", "d-loop")));
      await writeFile(join(dir, "d-loop.json"), JSON.stringify(calling("d-loop", "c-loop")));
      const cyclic = await push(dir);
      expect(cyclic.ok).toBe(false);
      expect(cyclic.results).toEqual([]);
      expect(cyclic.issues).toMatchObject([{ file: "c-loop.json", code: "definition.workflow_cycle" }]);
      expect(await harness.api(`/api/workflows/${id}-c-loop`).then((response) => response.status)).toBe(404);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("hello greets after its durable wait", async () => {
    const response = await harness.api("/api/workflows/hello/runs", {
      method: "POST",
      body: JSON.stringify({ input: { name: "Ada" } }),
    });
    expect(response.status).toBe(202);
    const { runId } = (await response.json()) as { runId: string };
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.greeting).toBe("Hello, Ada!");
    const pause = step(report, "pause");
    expect((pause.endedAt ?? 0) - (pause.startedAt ?? 0)).toBeGreaterThanOrEqual(2_000);
  });

  it("greet-many greets each name in a child run of greet-one, then counts in a loop", async () => {
    const response = await harness.api("/api/workflows/greet-many/runs", {
      method: "POST",
      body: JSON.stringify({ input: { names: ["Ada", "Grace", "Edsger"] } }),
    });
    expect(response.status).toBe(202);
    const { runId } = (await response.json()) as { runId: string };
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.output).toEqual({ greetings: ["Hello, Ada!", "Hello, Grace!", "Hello, Edsger!"], counted: 3 });
  });

  it("support-ticket pages through the local pager for an urgent ticket, a person confirms, and replies to the rest", async () => {
    const definition = JSON.parse(await readFile(join(examplesDir, "support-ticket.json"), "utf8"));
    const sample = definition.triggers[0].schema.examples[0];
    const pagerUrl = `${harness.baseUrl}/hooks/pager`;

    const urgentId = await deliver("support-ticket", { ...sample, pagerUrl });
    // Paged, then waiting for on-call to confirm the escalation through the emailed link.
    const review = await waitForStatus(harness, urgentId, "needs_review");
    expect(step(review, "page").status).toBe("success");
    expect(step(review, "confirm").status).toBe("needs_review");
    const link = await approvalLink(harness, urgentId, "oncall@example.com");
    const decided = await decideByForm(harness, link, { decision: "approve", "edit.severity": "sev1" });
    expect(decided.status).toBe(200);
    const urgent = await waitForRunEnd(harness, urgentId);
    expect(urgent.status, JSON.stringify(urgent.error)).toBe("success");
    expect(urgent.context.analysis).toEqual({ priority: "high", summary: sample.subject, confidence: 0.9 });
    // The analysis came from the model, through the OpenAI-compatible endpoint, with usage in the report.
    expect(step(urgent, "analyze").llm?.calls).toMatchObject([
      { provider: "default", model: "e2e-triage", outcome: "ok", usage: { totalTokens: 150 } },
    ]);
    expect(urgent.llm).toMatchObject({ calls: 1, totalTokens: 150, budget: { tokens: 20000 } });
    expect(urgent.context.confirmation).toMatchObject({
      decision: "approve",
      by: "oncall@example.com",
      edits: { severity: "sev1" },
    });
    expect(step(urgent, "reply").status).toBe("skipped");
    expect(urgent.context.page).toMatchObject({ status: 202, body: { status: "queued" } });
    const pageRunId = (urgent.context.page as { body: { runId: string } }).body.runId;
    const paged = await waitForRunEnd(harness, pageRunId);
    expect(paged.status).toBe("success");
    expect(paged.workflowId).toBe("pager");
    expect(paged.context.input).toEqual({
      ticket: sample.id,
      name: sample.name,
      priority: "high",
      summary: sample.subject,
    });

    // The README's quick-start payload: no subject, and "down" makes it urgent. Without a
    // pagerUrl the page goes to this server's own pager, wherever it listens (run.publicUrl).
    const readmeId = await deliver("support-ticket", {
      id: "T-1",
      name: "Ada",
      text: "The site is down",
      oncall: "sre@example.com",
    });
    const readmeReview = await waitForStatus(harness, readmeId, "needs_review");
    expect(step(readmeReview, "page").status).toBe("success");
    const readmePage = (readmeReview.context.page as { body: { runId: string } }).body.runId;
    expect((await waitForRunEnd(harness, readmePage)).workflowId).toBe("pager");
    const readmeLink = await approvalLink(harness, readmeId, "sre@example.com");
    expect((await decideByForm(harness, readmeLink, { decision: "reject", comment: "false alarm" })).status).toBe(200);
    const readme = await waitForRunEnd(harness, readmeId);
    expect(readme.context.confirmation).toMatchObject({ decision: "reject", comment: "false alarm" });
    expect(readme.status, JSON.stringify(readme.error)).toBe("success");
    expect(readme.context.analysis).toEqual({ priority: "high", summary: "The site is down", confidence: 0.9 });

    const routineId = await deliver("support-ticket", {
      id: "T-2",
      name: "Grace",
      text: "Could you put our new street name on next month's invoice?",
    });
    const routine = await waitForRunEnd(harness, routineId);
    expect(routine.status, JSON.stringify(routine.error)).toBe("success");
    expect(step(routine, "page").status).toBe("skipped");
    expect(routine.context.reply).toContain("Hi Grace");

    // The pager's run shows up in the list (read from D1) once its checkpoints land.
    await waitFor(
      "the pager run in the list",
      async () => {
        const response = await harness.api("/api/runs?workflow=pager");
        const body = (await response.json()) as { runs: { runId: string }[] };
        return body.runs.some((run) => run.runId === pageRunId) ? true : undefined;
      },
      { harness },
    );
  });
});
