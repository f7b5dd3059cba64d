import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";
import { type LlmRecordedRequest, type LlmReply, type LlmServer, startLlmServer } from "../support/llm-server";
import { startTestServer } from "../support/test-server";
import { approvalLink, decideByForm, outboxOf, waitForStatus } from "./approvals";
import { parseJson, runCli } from "./cli-process";
import { type Harness, startHarness, step, type TestServer, waitFor, waitForRunEnd } from "./harness";

const examplesDir = join(projectRoot, "workflows");
const model = "e2e-pipelines";
let harness: Harness;
let llm: LlmServer;
let testServer: TestServer;
let providers: Providers;

/** What the stand-in data providers know: two contacts in the CRM, companies by domain. */
const crmRecords: Record<string, unknown> = {
  "ada@acme.example": { stage: "trial", owner: "sam@example.com" },
  "edsger@big.example": { stage: "lead", lastContact: "2026-10-02" },
};
const companies: Record<string, { name: string; employees: number }> = {
  "acme.example": { name: "Acme", employees: 1200 },
  "big.example": { name: "Big Co", employees: 400 },
  "tiny.example": { name: "Tiny", employees: 4 },
  "solo.example": { name: "Solo", employees: 1 },
  "mid.example": { name: "Mid", employees: 60 },
};

interface Providers {
  url: string;
  calls: { path: string; body: Record<string, string>; idempotencyKey: string | undefined }[];
  close(): Promise<void>;
}

/**
 * A CRM and a company data provider on 127.0.0.1, answering from the tables above: 200 with
 * the record, or 404 for someone they do not know, as lead-score expects of real ones.
 */
async function startProviders(): Promise<Providers> {
  const calls: Providers["calls"] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, string>;
      const path = request.url ?? "/";
      const key = request.headers["idempotency-key"];
      calls.push({ path, body, idempotencyKey: Array.isArray(key) ? key[0] : key });
      // The CRM refuses to look up addresses at refused.example, as it would with a bad key.
      if (path === "/crm" && body.email?.endsWith("@refused.example")) {
        response.writeHead(403, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: "forbidden" }));
        return;
      }
      const found = path === "/crm" ? crmRecords[body.email ?? ""] : companies[body.domain ?? ""];
      response.writeHead(found ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify(found ?? { error: "not found" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function lastMessage(request: LlmRecordedRequest): string {
  return String(request.body.messages?.at(-1)?.content ?? "");
}

function systemOf(request: LlmRecordedRequest): string {
  return String(request.body.messages?.find((message) => message.role === "system")?.content ?? "");
}

/**
 * Scores a lead from the data in its prompt the way the system prompt asks: company size
 * first, a CRM record on top. Deterministic, so the test knows which leads reach sales.
 */
function scoreLead(prompt: string): LlmReply {
  const name = /^Lead: ([^<]+) </m.exec(prompt)?.[1]?.trim() ?? "?";
  const employees = Number(/"employees":(\d+)/.exec(prompt)?.[1] ?? 0);
  const known = !/CRM record: \(not in the CRM\)/.test(prompt);
  const score = Math.min(100, (employees >= 50 ? 60 : 20) + (employees >= 1000 ? 20 : 0) + (known ? 10 : 0));
  const reasons = [`${employees} employees`, known ? "already in the CRM" : "new to us"];
  return {
    json: { score, reasons, outreach: `Hi ${name}, a short note about your team.` },
    usage: { input: 200, output: 60 },
  };
}

const section = (words: number, word = "durable") => Array.from({ length: words }, () => word).join(" ");

/**
 * Writes for content-draft: a first draft without the "Next steps" section, and a revision
 * (the prompt starts with "Revise") that has it, except for a topic that says "stubborn".
 */
function writeDraft(prompt: string): LlmReply {
  const revising = prompt.startsWith("Revise") && !/^Topic: .*stubborn/m.test(prompt);
  const sections = [{ heading: "Summary", body: `${section(12)}\n\n${section(10, "steps")}` }];
  if (revising) sections.push({ heading: "Next steps", body: section(8, "try") });
  return { json: { title: "Durable steps", sections }, usage: { input: 300, output: 200 } };
}

function respond(request: LlmRecordedRequest): LlmReply | undefined {
  const system = systemOf(request);
  if (system.includes("qualify sales leads")) return scoreLead(lastMessage(request));
  if (system.includes("articles for a company blog")) return writeDraft(lastMessage(request));
  return undefined;
}

beforeAll(async () => {
  llm = await startLlmServer({ respond });
  testServer = await startTestServer();
  providers = await startProviders();
  harness = await startHarness({ vars: { LLM_BASE_URL: `${llm.url}/v1`, LLM_MODEL: model } });
  const env = { SIGNALBOX_URL: harness.baseUrl, SIGNALBOX_TOKEN: harness.token };
  const pushed = parseJson<{ ok: boolean; issues: unknown[] }>(
    await runCli(["push", "--json", "."], { cwd: examplesDir, env }),
  );
  expect(pushed.issues).toEqual([]);
  expect(pushed.ok).toBe(true);
});

afterAll(async () => {
  await harness?.stop();
  await llm?.close();
  await testServer?.close();
  await providers?.close();
});

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

interface TestRun {
  passed: number;
  failed: number;
  results: {
    name: string;
    passed: boolean;
    failures: unknown[];
    report: { logs: { nodeId: string; message: string }[] };
  }[];
}

async function runTestCases(workflowId: string): Promise<TestRun> {
  const response = await harness.api(`/api/workflows/${workflowId}/test`, {
    method: "POST",
    body: JSON.stringify({ tests: true }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as TestRun;
}

/** The log lines a test case's dry run wrote, by node. */
function logsOf(run: TestRun, name: string): Record<string, string> {
  const result = run.results.find((entry) => entry.name === name);
  if (!result) throw new Error(`no test case named ${name}`);
  return Object.fromEntries(result.report.logs.map((line) => [line.nodeId, line.message]));
}

describe("the definitions' own test cases", () => {
  for (const workflowId of ["lead-score", "lead-enrichment", "content-draft", "content-pipeline"]) {
    it(`${workflowId}: every test case passes through POST /api/workflows/:id/test`, async () => {
      const run = await runTestCases(workflowId);
      const failures = run.results.filter((result) => !result.passed).map(({ name, failures }) => ({ name, failures }));
      expect(failures).toEqual([]);
      expect(run.passed).toBeGreaterThanOrEqual(2);
      expect(run.failed).toBe(0);
    });
  }

  it("the log lines say what happened to every lead and every article", async () => {
    const leads = await runTestCases("lead-enrichment");
    expect(logsOf(leads, "the best leads go to sales best first, the rest are logged")).toEqual({
      "log-rest": "1 lead below 70: grace@tiny.example 30",
      done: "2 of 3 leads to sales (taken up by sales@example.com)",
    });
    expect(logsOf(leads, "a lead that could not be scored is left out of both lists")).toEqual({
      "log-rest": "0 leads below 70; not scored: barbara@down.example",
      done: "1 of 2 leads to sales (passed on)",
    });
    const content = await runTestCases("content-pipeline");
    expect(logsOf(content, "an approved draft with an edited title is formatted and published once")).toEqual({
      done: '"Checkpoints": published as /why-checkpoints-matter (the endpoint answered 201) after 2 rounds',
    });
    expect(logsOf(content, "a rejected draft is not published")).toEqual({
      shelve: '"Checkpoints" not published: rejected by editor@example.com (needs an example)',
      done: '"Checkpoints": not published after 3 rounds',
    });
  });

  it("signalbox test runs a workflow file's cases the same way", async () => {
    const env = { SIGNALBOX_URL: harness.baseUrl, SIGNALBOX_TOKEN: harness.token };
    const result = await runCli(["test", "workflows/content-pipeline.json"], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("passed  an approved draft with an edited title is formatted and published once");
    expect(result.stdout).toContain("2 passed, 0 failed");
  });
});

const leads = [
  { name: "Ada Lovelace", email: "ada@acme.example", company: "Acme", title: "CTO" },
  { name: "Grace Hopper", email: "grace@tiny.example", company: "Tiny" },
  { name: "Edsger Dijkstra", email: "edsger@big.example" },
  { name: "Linus Torvalds", email: "linus@solo.example" },
  { name: "Barbara Liskov", email: "barbara@mid.example", company: "Mid" },
];

const scoringRequests = () => llm.requests.filter((request) => systemOf(request).includes("qualify sales leads"));
const draftingRequests = () =>
  llm.requests.filter((request) => systemOf(request).includes("articles for a company blog"));

describe("lead-enrichment", () => {
  it("looks up and scores each of 5 leads, sends the best two to sales with outreach, and logs the rest", async () => {
    const scoredBefore = scoringRequests().length;
    const callsBefore = providers.calls.length;
    const runId = await deliver("lead-enrichment", {
      leads,
      salesTo: "sales-team@example.com",
      providers: { crm: `${providers.url}/crm`, company: `${providers.url}/company` },
    });
    const review = await waitForStatus(harness, runId, "needs_review", 60_000);
    expect(step(review, "enrich").children).toMatchObject({ total: 5, succeeded: 5, failed: 0 });
    expect(step(review, "enrich").children?.maxRunning).toBeLessThanOrEqual(3);

    // Each lead was looked up once at each provider, and scored once by the model.
    const calls = providers.calls.slice(callsBefore);
    const crm = calls.filter((call) => call.path === "/crm").map((call) => call.body.email);
    const company = calls.filter((call) => call.path === "/company").map((call) => call.body.domain);
    expect(crm.sort()).toEqual(leads.map((lead) => lead.email).sort());
    expect(company.sort()).toEqual(leads.map((lead) => lead.email.split("@")[1]).sort());
    const scoring = scoringRequests().slice(scoredBefore);
    expect(scoring).toHaveLength(5);
    // What the providers said reached the model: Ada's CRM stage and her company's size.
    const adaPrompt = scoring.map(lastMessage).find((prompt) => prompt.startsWith("Lead: Ada Lovelace"));
    expect(adaPrompt).toContain('"stage":"trial"');
    expect(adaPrompt).toContain('"employees":1200');

    // Scores: Ada 90 (large, known), Edsger 70 (mid-size, known) reach 70; the rest do not.
    expect(review.context.top).toMatchObject([
      { email: "ada@acme.example", score: 90, reasons: ["1200 employees", "already in the CRM"] },
      { email: "edsger@big.example", score: 70 },
    ]);
    expect((review.context.rest as { email: string }[]).map((lead) => lead.email)).toEqual([
      "grace@tiny.example",
      "linus@solo.example",
      "barbara@mid.example",
    ]);
    const sent = (await outboxOf(harness, runId)).filter((message) => message.to === "sales-team@example.com");
    expect(sent.map((message) => message.subject)).toEqual(["2 leads worth a call: Ada Lovelace, Edsger Dijkstra"]);
    const link = await approvalLink(harness, runId, "sales-team@example.com");
    const page = await (await fetch(link)).text();
    expect(page).toContain("Suggested outreach: Hi Ada Lovelace, a short note about your team.");

    expect((await decideByForm(harness, link, { decision: "approve" })).status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.output).toEqual({
      top: ["ada@acme.example", "edsger@big.example"],
      rest: ["grace@tiny.example", "linus@solo.example", "barbara@mid.example"],
      handoff: "approve",
    });
    expect(step(report, "log-rest").status).toBe("success");
    // No lookup or model call was repeated after the decision.
    expect(providers.calls.length - callsBefore).toBe(10);
    expect(scoringRequests().length - scoredBefore).toBe(5);
  });

  it("leaves out a lead the CRM refuses, and fails the run once more than a fifth are refused", async () => {
    const before = providers.calls.length;
    const tolerated = await deliver("lead-enrichment", {
      leads: [...leads.slice(0, 4), { name: "Mallory", email: "mallory@refused.example" }],
      providers: { crm: `${providers.url}/crm`, company: `${providers.url}/company` },
    });
    const review = await waitForStatus(harness, tolerated, "needs_review", 60_000);
    expect(step(review, "enrich").children).toMatchObject({ total: 5, succeeded: 4, failed: 1 });
    expect(review.context.unscored).toMatchObject([{ index: 4 }]);
    expect(review.context.scored).toHaveLength(5);
    expect((review.context.scored as unknown[])[4]).toBeNull();
    const link = await approvalLink(harness, tolerated, "sales@example.com");
    expect((await decideByForm(harness, link, { decision: "reject" })).status).toBe(200);
    const settled = await waitForRunEnd(harness, tolerated);
    expect(settled.status, JSON.stringify(settled.error)).toBe("success");
    expect(settled.output).toEqual({
      top: ["ada@acme.example", "edsger@big.example"],
      rest: ["grace@tiny.example", "linus@solo.example"],
      handoff: "reject",
    });

    const failing = await deliver("lead-enrichment", {
      leads: [
        ...leads.slice(0, 3),
        { name: "Mallory", email: "mallory@refused.example" },
        { name: "Trent", email: "trent@refused.example" },
      ],
      providers: { crm: `${providers.url}/crm`, company: `${providers.url}/company` },
    });
    const failed = await waitForRunEnd(harness, failing, 60_000);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "map.too_many_failures", details: { failed: 2, tolerated: 1 } });
    // Each refused lead was asked once: a 403 is not retried.
    const refused = providers.calls.slice(before).filter((call) => call.body.email?.endsWith("@refused.example"));
    expect(refused).toHaveLength(3);
  });

  it("runs against the local stand-ins without providers: they know nobody, so nobody reaches sales", async () => {
    const before = scoringRequests().length;
    const runId = await deliver("lead-enrichment", { leads: leads.slice(0, 2) });
    const report = await waitForRunEnd(harness, runId, 60_000);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.output).toEqual({ top: [], rest: ["ada@acme.example", "grace@tiny.example"], handoff: null });
    expect(step(report, "handoff").status).toBe("skipped");
    expect(scoringRequests().length - before).toBe(2);
    for (const prompt of scoringRequests().slice(before).map(lastMessage)) {
      expect(prompt).toContain("CRM record: (not in the CRM)");
      expect(prompt).toContain("Company data: (none found)");
    }
    const lookups = await waitFor(
      "the stand-ins' lookup runs",
      async () => {
        const response = await harness.api("/api/runs?workflow=stand-in-crm");
        const body = (await response.json()) as { runs: unknown[] };
        return body.runs.length >= 2 ? body.runs : undefined;
      },
      { harness },
    );
    expect(lookups).toHaveLength(2);
  });
});

describe("content-pipeline", () => {
  it("revises a draft that fails a check, the editor approves an edited title, and it is published once", async () => {
    const before = draftingRequests().length;
    const runId = await deliver("content-pipeline", {
      topic: "Durable workflows",
      brief: "Why checkpoints matter when a step calls a model.",
      sections: ["Summary", "Next steps"],
      minWords: 20,
      maxWords: 200,
      publishUrl: `${testServer.url}/publish`,
    });
    const review = await waitForStatus(harness, runId, "needs_review", 60_000);
    // Round 1 missed a section; round 2 was asked to fix exactly that, and passed.
    const drafting = draftingRequests().slice(before).map(lastMessage);
    expect(drafting).toHaveLength(2);
    expect(drafting[0]).toMatch(/^Write a first draft/);
    expect(drafting[1]).toMatch(/^Revise this draft/);
    expect(drafting[1]).toContain("- missing section: Next steps");
    expect(review.context.writing).toMatchObject({ iterations: 2, last: { passed: true, problems: [], words: 30 } });
    expect(step(review, "write").children).toMatchObject({ total: 2, succeeded: 2 });

    const link = await approvalLink(harness, runId, "editor@example.com");
    const sections = (review.context.writing as { last: { draft: { sections: unknown[] } } }).last.draft.sections;
    const decided = await decideByForm(harness, link, {
      decision: "approve",
      "edit.title": "Durable steps, explained",
      "edit.sections": JSON.stringify(sections),
    });
    expect(decided.status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.output).toEqual({
      rounds: 2,
      passed: true,
      decision: "approve",
      slug: "durable-steps-explained",
      published: true,
    });

    const published = testServer.requests.filter((request) => request.path === "/publish");
    expect(published).toHaveLength(1);
    expect(published[0]?.headers["idempotency-key"]).toBe(`${runId}:publish`);
    const article = JSON.parse(published[0]?.body ?? "{}") as Record<string, string>;
    expect(article).toMatchObject({ title: "Durable steps, explained", slug: "durable-steps-explained" });
    expect(article.approvedBy).toBe("editor@example.com");
    expect(article.html).toContain("<h1>Durable steps, explained</h1>\n<h2>Summary</h2>\n<p>durable");
    expect(article.html).toContain("<h2>Next steps</h2>\n<p>try try");
    expect(article.markdown).toMatch(/^# Durable steps, explained\n\n## Summary\n\n/);
  });

  it("a draft still failing its checks after 3 rounds reaches the editor with its problems, and a rejection publishes nothing", async () => {
    const before = draftingRequests().length;
    const published = testServer.requests.filter((request) => request.path === "/publish-stubborn").length;
    const runId = await deliver("content-pipeline", {
      topic: "A stubborn draft",
      brief: "The model never adds the last section.",
      sections: ["Summary", "Next steps"],
      minWords: 20,
      publishUrl: `${testServer.url}/publish-stubborn`,
    });
    const review = await waitForStatus(harness, runId, "needs_review", 60_000);
    expect(draftingRequests().length - before).toBe(3);
    expect(review.context.writing).toMatchObject({
      iterations: 3,
      last: { passed: false, problems: ["missing section: Next steps"] },
    });
    const link = await approvalLink(harness, runId, "editor@example.com");
    const page = await (await fetch(link)).text();
    expect(page).toContain("It still fails these checks: missing section: Next steps.");
    expect((await decideByForm(harness, link, { decision: "reject", comment: "needs next steps" })).status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.output).toEqual({ rounds: 3, passed: false, decision: "reject", slug: null, published: false });
    expect(step(report, "publish").status).toBe("skipped");
    expect(testServer.requests.filter((request) => request.path === "/publish-stubborn")).toHaveLength(published);
  });

  it("publishes to the local stand-in without a publishUrl", async () => {
    const runId = await deliver("content-pipeline", {
      topic: "Stand-ins",
      brief: "How the examples run with no outside network.",
      sections: ["Summary", "Next steps"],
      minWords: 20,
    });
    const review = await waitForStatus(harness, runId, "needs_review", 60_000);
    const link = await approvalLink(harness, runId, "editor@example.com");
    // Approved as drafted: the form sends back the fields as the page filled them in.
    const { draft } = (review.context.writing as { last: { draft: { title: string; sections: unknown[] } } }).last;
    const decided = await decideByForm(harness, link, {
      decision: "approve",
      "edit.title": draft.title,
      "edit.sections": JSON.stringify(draft.sections, null, 2),
    });
    expect(decided.status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const publishedRunId = (report.context.published as { status: number; body: { runId: string } }).body.runId;
    expect(report.context.published).toMatchObject({ status: 202 });
    const posted = await waitForRunEnd(harness, publishedRunId);
    expect(posted.workflowId).toBe("stand-in-publisher");
    expect(posted.context.input).toMatchObject({
      title: "Durable steps",
      slug: "durable-steps",
      approvedBy: "editor@example.com",
    });

    // The same post again, as a retry after a lost answer would send it: the stand-in honours
    // the key, as a publishing API should, and starts nothing new.
    const again = await fetch(`${harness.baseUrl}/hooks/stand-in-publisher`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": `${runId}:publish` },
      body: JSON.stringify(posted.context.input),
    });
    expect(await again.json()).toMatchObject({ runId: publishedRunId, status: "duplicate" });
  });
});
