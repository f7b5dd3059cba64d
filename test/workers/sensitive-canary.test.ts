import {
  createExecutionContext,
  evictDurableObject,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { asKey, makeKey } from "./access-support";
import { settleTree } from "./children-helpers";
import { page, signIn } from "./dashboard-support";
import { api, register, settle, startManual, token } from "./helpers";
import { decide, linkFor, outbox } from "./human-helpers";
import { llmServer, uniqueModel } from "./llm-helpers";
import { expectError, runObject, testServer } from "./support";

/** The canary: known text that must appear nowhere at rest or in an answer, but reach every node. */
const canary = "CANARY-5e1f9a7b-PLAINTEXT";

function workflow(id: string, model: string) {
  return {
    id,
    name: "Sensitive canary",
    triggers: [{ type: "manual" }],
    sensitive: { input: ["card.number", "ssn"], context: ["ssn"] },
    nodes: [
      {
        id: "prep",
        type: "transform",
        config: { set: { ssn: "input.ssn", last4: "$substring(input.card.number, -4)" } },
      },
      {
        id: "call",
        type: "http",
        sensitive: "output",
        config: {
          method: "POST",
          url: "{{ input.base }}/canary/charge",
          body: "{ 'number': input.card.number, 'ssn': ssn }",
          output: "charge",
        },
      },
      {
        // A large answer (over the inline limit) goes to R2: sealed there too.
        id: "bulk",
        type: "http",
        sensitive: "output",
        config: { url: "{{ input.base }}/large/70000?seed={{ input.card.number }}", output: "bulk" },
      },
      {
        id: "think",
        type: "llm",
        sensitive: "output",
        config: { model, prompt: "Check {{ ssn }} for card {{ input.card.number }}", output: "verdict" },
      },
      {
        id: "ask",
        type: "human",
        config: {
          to: ["ann@example.com"],
          subject: "Approve card {{ input.card.number }}",
          body: "SSN {{ ssn }}, verdict {{ verdict }}, charge {{ charge.body.body.number }}",
          summary: { Card: "input.card.number", Ssn: "ssn", Last4: "last4" },
          expiresIn: "2d",
        },
      },
      { id: "note", type: "log", config: { message: "charged {{ input.card.number }} for {{ ssn }}" } },
    ],
    edges: [
      { from: "prep", to: "call" },
      { from: "call", to: "bulk" },
      { from: "bulk", to: "think" },
      { from: "think", to: "ask" },
      { from: "ask", to: "note" },
    ],
  };
}

let logged: string[] = [];

beforeEach(() => {
  logged = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function d1Dump(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const rows: unknown[] = [];
  for (const { name } of tables.results) {
    rows.push(name, (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  }
  return JSON.stringify(rows);
}

async function r2Dump(): Promise<string> {
  const texts: string[] = [];
  for (const bucket of [env.BLOBS, env.FILES]) {
    let cursor: string | undefined;
    do {
      const listed = await bucket.list(cursor ? { cursor } : {});
      for (const object of listed.objects) texts.push(object.key, (await (await bucket.get(object.key))?.text()) ?? "");
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
  }
  return texts.join("\n");
}

async function doDump(runId: string): Promise<string> {
  return runInDurableObject(runObject(runId), async (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
      .toArray();
    const rows: unknown[] = [];
    for (const { name } of tables) rows.push(name, sql.exec(`SELECT * FROM "${name}"`).toArray());
    rows.push([...(await state.storage.list()).entries()]);
    return JSON.stringify(rows);
  });
}

/** A request to the Worker with another DATA_KEYS than the tests' (a rotation). */
async function withKeys(dataKeys: string, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`http://signalbox.test${path}`, { headers: { authorization: `Bearer ${token}` } });
  const response = await worker.fetch(request, { ...env, DATA_KEYS: dataKeys }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function text(response: Response, what: string): Promise<string> {
  expect(response.status, what).toBe(200);
  return response.text();
}

describe("sensitive data: the canary", () => {
  it("reaches every node, and is found nowhere at rest, in logs or in any answer without reveal", async () => {
    const model = uniqueModel("canary");
    await llmServer.script(model, [{ content: `Looks fine: ${canary}` }]);
    const workflowId = `sensitive-canary-${crypto.randomUUID().slice(0, 6)}`;
    await register(workflow(workflowId, model));
    const runId = await startManual(workflowId, {
      base: testServer.url,
      card: { number: canary, brand: "visa" },
      ssn: canary,
    });
    const waiting = await settle(runId);
    expect(waiting.status, JSON.stringify(waiting.error)).toBe("needs_review");

    // Nodes got the real values: the server and the model saw the canary.
    const [charge] = await testServer.requests("/canary/charge");
    expect(charge?.body).toContain(canary);
    const [asked] = await llmServer.requests(model);
    expect(JSON.stringify(asked?.body)).toContain(canary);

    // The approval email and page show the values redacted.
    const mails = await outbox(runId);
    expect(mails).toHaveLength(1);
    expect(JSON.stringify(mails)).not.toContain(canary);
    const link = await linkFor(runId, "ann@example.com");
    const approvalPage = await text(await page(new URL(link).pathname), "approval page");
    expect(approvalPage).not.toContain(canary);
    expect(approvalPage).toContain("redacted");
    expect((await decide(link, { decision: "approve" })).status).toBe(200);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    await runInDurableObject(runObject(runId), (instance) => instance.idle());

    // At rest: the run's object, D1 (checkpoints, context versions, outbox, audit) and R2 hold
    // the values sealed, and nowhere in plain text.
    const stored = await doDump(runId);
    expect(stored).toContain("$signalbox.sealed");
    expect(stored).not.toContain(canary);
    const d1 = await d1Dump();
    expect(d1).toContain(runId);
    expect(d1).toContain("$signalbox.sealed");
    expect(d1).not.toContain(canary);
    const r2 = await r2Dump();
    expect(r2).toContain(`runs/${runId}/blobs/`);
    expect(r2).toContain("$signalbox.sealed");
    expect(r2).not.toContain(canary);

    // Every answer without reveal, to the admin token.
    const versions = report.contextVersion;
    const paths = [
      `/api/runs/${runId}`,
      `/api/runs/${runId}?inline=true`,
      `/api/runs?workflow=${workflowId}`,
      `/api/runs/${runId}/operations`,
      `/api/outbox?run=${runId}`,
      `/api/audit`,
      `/api/metrics`,
      `/api/workflows/${workflowId}`,
    ];
    for (let version = 0; version <= versions; version++) {
      paths.push(`/api/runs/${runId}/context?version=${version}&inline=true`);
      if (version > 0) paths.push(`/api/runs/${runId}/context/diff?from=${version - 1}&to=${version}`);
    }
    for (const path of paths) expect(await text(await api(path), path), path).not.toContain(canary);
    const redacted = (await (await api(`/api/runs/${runId}?inline=true`)).json()) as {
      context: Record<string, unknown>;
    };
    expect(redacted.context.ssn).toEqual({ "$signalbox.redacted": true });
    expect(redacted.context.input).toMatchObject({
      card: { number: { "$signalbox.redacted": true }, brand: "visa" },
      ssn: { "$signalbox.redacted": true },
    });
    expect(redacted.context.last4).toBe(canary.slice(-4));

    // The dashboard's run page, and its context and diff views.
    const cookie = await signIn();
    for (const path of [
      `/ui/runs/${runId}`,
      `/ui/runs/${runId}?version=1`,
      `/ui/runs/${runId}?from=0&to=${versions}`,
      `/ui/runs/${runId}?inline=1`,
      `/ui/runs?workflow=${workflowId}`,
    ]) {
      const html = await text(await page(path, { cookie }), path);
      expect(html, path).not.toContain(canary);
    }

    // Nothing logged it either: the log node's line shows the values redacted.
    const line = logged.find((entry) => entry.includes("charged"));
    expect(line).toContain("$signalbox.redacted");
    expect(logged.join("\n")).not.toContain(canary);
    expect(mails[0]?.text).toContain("$signalbox.redacted");
  });

  it("an admin reveals with ?reveal=true, audited; a viewer is refused", async () => {
    const model = uniqueModel("canary-reveal");
    await llmServer.script(model, [{ content: "fine" }]);
    const workflowId = `sensitive-reveal-${crypto.randomUUID().slice(0, 6)}`;
    await register(workflow(workflowId, model));
    const runId = await startManual(workflowId, { base: testServer.url, card: { number: canary }, ssn: canary });
    expect((await settle(runId)).status).toBe("needs_review");

    const revealed = (await (await api(`/api/runs/${runId}?reveal=true`)).json()) as {
      context: Record<string, unknown>;
    };
    expect(revealed.context.ssn).toBe(canary);
    expect(revealed.context.input).toMatchObject({ card: { number: canary }, ssn: canary });
    const context = (await (await api(`/api/runs/${runId}/context?version=1&reveal=true`)).json()) as {
      context: Record<string, unknown>;
    };
    expect(context.context.ssn).toBe(canary);

    const audit = await env.DB.prepare(
      "SELECT action, status FROM audit_log WHERE run_id = ? AND action LIKE '%reveal%'",
    )
      .bind(runId)
      .all<{ action: string; status: number }>();
    expect(audit.results).toEqual([
      { action: `GET /api/runs/${runId}?reveal=true`, status: 200 },
      { action: `GET /api/runs/${runId}/context?reveal=true`, status: 200 },
    ]);

    const viewer = await makeKey({ name: "canary viewer", role: "viewer" });
    const refused = await expectError(await asKey(viewer.key, `/api/runs/${runId}?reveal=true`), 403, "auth.forbidden");
    expect(JSON.stringify(refused)).not.toContain(canary);
    expect(await text(await asKey(viewer.key, `/api/runs/${runId}`), "viewer report")).not.toContain(canary);
    await expectError(await api(`/api/runs/${runId}?reveal=maybe`), 400, "request.invalid");
  });

  it("after a key rotation the old run still reveals; without its key it cannot, and says so", async () => {
    const model = uniqueModel("canary-rotate");
    await llmServer.script(model, [{ content: "fine" }]);
    const workflowId = `sensitive-rotate-${crypto.randomUUID().slice(0, 6)}`;
    await register(workflow(workflowId, model));
    const runId = await startManual(workflowId, { base: testServer.url, card: { number: canary }, ssn: canary });
    expect((await settle(runId)).status).toBe("needs_review");
    const keys = JSON.parse(env.DATA_KEYS ?? "{}") as { current: string; keys: Record<string, string> };
    const k3 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const rotated = JSON.stringify({ current: "k3", keys: { ...keys.keys, k3 } });
    const revealed = await withKeys(rotated, `/api/runs/${runId}?reveal=true`);
    expect(revealed.status).toBe(200);
    expect(((await revealed.json()) as { context: { ssn: unknown } }).context.ssn).toBe(canary);
    // The key the run was sealed with dropped: nothing opens, nothing leaks.
    const dropped = JSON.stringify({ current: "k3", keys: { k3 } });
    const refused = await expectError(
      await withKeys(dropped, `/api/runs/${runId}?reveal=true`),
      503,
      "data_keys.unavailable",
    );
    expect(refused.error.message).toMatch(/no data key "k2"/);
    expect(JSON.stringify(refused)).not.toContain(canary);
  });

  it("a replay's edits to sensitive keys are sealed too", async () => {
    const edit = `REPLAY-EDIT-${crypto.randomUUID()}`;
    const model = uniqueModel("canary-replay");
    await llmServer.script(model, [{ content: "fine" }, { content: "fine again" }]);
    const workflowId = `sensitive-replay-${crypto.randomUUID().slice(0, 6)}`;
    await register(workflow(workflowId, model));
    const runId = await startManual(workflowId, { base: testServer.url, card: { number: "4242" }, ssn: "x" });
    expect((await settle(runId)).status).toBe("needs_review");
    await api(`/api/runs/${runId}/cancel`, { method: "POST" });
    await settle(runId);
    const response = await api(`/api/runs/${runId}/replay`, {
      method: "POST",
      json: { fromNode: "call", context: { ssn: edit } },
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const { runId: replayId } = (await response.json()) as { runId: string };
    expect((await settle(replayId)).status).toBe("needs_review");
    // The replayed node read the edit in plain.
    const charges = await testServer.requests("/canary/charge");
    expect(charges.some((request) => request.body.includes(edit))).toBe(true);
    expect(await doDump(replayId)).not.toContain(edit);
    expect(await d1Dump()).not.toContain(edit);
    expect(await text(await api(`/api/runs/${replayId}?inline=true`), "replay report")).not.toContain(edit);
  });

  it("a map over sensitive input: children seal all they hold, the parent's nodes read the results", async () => {
    const workflowId = `sensitive-map-${crypto.randomUUID().slice(0, 6)}`;
    await register({
      id: workflowId,
      name: "Sensitive map",
      sensitive: { input: ["cards"] },
      nodes: [
        {
          id: "each",
          type: "map",
          sensitive: "output",
          config: {
            items: "input.cards",
            body: {
              nodes: [{ id: "tag", type: "transform", config: { set: { tagged: "'card ' & input" } } }],
              output: "tagged",
            },
            output: "tagged",
          },
        },
        {
          id: "count",
          type: "transform",
          config: { set: { matches: "$count(tagged[$substring($, 0, 12) = 'card CANARY-'])" } },
        },
      ],
      edges: [{ from: "each", to: "count" }],
    });
    const runId = await startManual(workflowId, { cards: [canary, `${canary}-2`] });
    const report = await settleTree(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    // The parent's node read the children's results in plain.
    expect(report.context.matches).toBe(2);
    const children = [`${runId}.each.1.0`, `${runId}.each.1.1`];
    for (const id of [runId, ...children]) {
      await runInDurableObject(runObject(id), (instance) => instance.idle());
      expect(await doDump(id), id).not.toContain(canary);
      for (const path of [`/api/runs/${id}`, `/api/runs/${id}?inline=true`, `/api/runs/${id}/context?inline=true`]) {
        expect(await text(await api(path), path), path).not.toContain(canary);
      }
    }
    expect(await d1Dump()).not.toContain(canary);
    const revealed = (await (await api(`/api/runs/${runId}?reveal=true`)).json()) as { context: { tagged: unknown } };
    expect(revealed.context.tagged).toEqual([`card ${canary}`, `card ${canary}-2`]);
  });

  it.each([
    ["an answer that does not fit its schema", { repairs: 0 }, { label: canary }],
    [
      "a low-confidence answer",
      { confidence: { field: "confidence", threshold: 0.7 } },
      { label: canary, confidence: 0.4 },
    ],
  ])("an llm step's review of %s quotes its sensitive output redacted", async (_name, extra, answer) => {
    const model = uniqueModel("canary-review");
    await llmServer.script(model, [{ json: answer }]);
    const workflowId = `sensitive-review-${crypto.randomUUID().slice(0, 6)}`;
    const schema = {
      type: "object",
      required: ["label", "confidence"],
      properties: { label: { type: "string" }, confidence: { type: "number" } },
    };
    await register({
      id: workflowId,
      name: "Sensitive review",
      reviewers: ["lead@example.com"],
      sensitive: { context: ["verdict"] },
      nodes: [
        {
          id: "classify",
          type: "llm",
          config: { model, prompt: "classify", schema, output: "verdict", ...extra },
          retry: { escalateAfter: 1 },
        },
      ],
    });
    const runId = await startManual(workflowId, {});
    expect((await settle(runId)).status).toBe("needs_review");
    const mails = await outbox(runId);
    expect(mails.length).toBeGreaterThan(0);
    expect(JSON.stringify(mails)).not.toContain(canary);
    const reviewPage = await text(
      await page(new URL(await linkFor(runId, "lead@example.com")).pathname),
      "review page",
    );
    expect(reviewPage).not.toContain(canary);
    expect(await doDump(runId)).not.toContain(canary);
    expect(await d1Dump()).not.toContain(canary);
    expect(await text(await api(`/api/runs/${runId}?inline=true`), "report")).not.toContain(canary);
  });

  it("an event's payload: buffered sealed, matched in plain, sealed into a marked key, read by the next node", async () => {
    const workflowId = `sensitive-event-${crypto.randomUUID().slice(0, 6)}`;
    await register({
      id: workflowId,
      name: "Sensitive event",
      sensitive: { context: ["payment"] },
      nodes: [
        {
          id: "await",
          type: "wait",
          config: { event: "payment.settled", timeout: "1h", output: "payment", match: "event.payload.order = 'A-1'" },
        },
        { id: "use", type: "transform", config: { set: { tail: "$substring(payment.payload.card, -4)" } } },
      ],
      edges: [{ from: "await", to: "use" }],
    });
    const runId = await startManual(workflowId, {});
    expect((await settle(runId)).status).toBe("waiting");
    const send = (payload: unknown) =>
      api(`/api/runs/${runId}/events/payment.settled`, { method: "POST", json: { payload } });
    // Not this run's order: buffered, and the buffer holds it sealed.
    expect(await (await send({ order: "B-2", card: canary })).json()).toMatchObject({ status: "buffered" });
    expect(await doDump(runId)).not.toContain(canary);
    expect(await (await send({ order: "A-1", card: canary })).json()).toMatchObject({ status: "consumed" });
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.tail).toBe(canary.slice(-4));
    await runInDurableObject(runObject(runId), (instance) => instance.idle());
    expect(await doDump(runId)).not.toContain(canary);
    expect(await d1Dump()).not.toContain(canary);
    expect(await text(await api(`/api/runs/${runId}?inline=true`), "report")).not.toContain(canary);
  });

  it("after the run's object restarts, nodes still read the real values", async () => {
    const workflowId = `sensitive-restart-${crypto.randomUUID().slice(0, 6)}`;
    const path = `/canary/after-restart/${workflowId}`;
    await register({
      id: workflowId,
      name: "Sensitive restart",
      sensitive: { input: ["card.number", "ssn"], context: ["ssn"] },
      nodes: [
        { id: "prep", type: "transform", config: { set: { ssn: "input.ssn" } } },
        { id: "ask", type: "human", config: { to: ["ann@example.com"], subject: "Go?", body: "SSN {{ ssn }}" } },
        {
          id: "call",
          type: "http",
          config: {
            method: "POST",
            url: `${testServer.url}${path}`,
            body: "{ 'ssn': ssn, 'number': input.card.number }",
          },
        },
      ],
      edges: [
        { from: "prep", to: "ask" },
        { from: "ask", to: "call" },
      ],
    });
    const runId = await startManual(workflowId, { card: { number: canary }, ssn: `${canary}-ssn` });
    expect((await settle(runId)).status).toBe("needs_review");
    await evictDurableObject(runObject(runId));
    expect((await decide(await linkFor(runId, "ann@example.com"), { decision: "approve" })).status).toBe(200);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const [sent] = await testServer.requests(path);
    expect(JSON.parse(sent?.body ?? "null")).toEqual({ ssn: `${canary}-ssn`, number: canary });
    expect(await doDump(runId)).not.toContain(canary);
  });

  it("a marked http step's unexpected answer keeps its body sealed in the step's error", async () => {
    const workflowId = `sensitive-status-${crypto.randomUUID().slice(0, 6)}`;
    const path = `/canary/refused/${workflowId}`;
    await testServer.script(path, [{ status: 422, body: { rejected: canary } }]);
    await register({
      id: workflowId,
      name: "Sensitive status",
      nodes: [
        {
          id: "call",
          type: "http",
          sensitive: "output",
          retry: { maxAttempts: 1 },
          config: { method: "POST", url: `${testServer.url}${path}`, output: "charge" },
        },
      ],
    });
    const runId = await startManual(workflowId, {});
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "node.http_status" });
    expect(await doDump(runId)).not.toContain(canary);
    expect(await d1Dump()).not.toContain(canary);
    const answer = await text(await api(`/api/runs/${runId}`), "report");
    expect(answer).not.toContain(canary);
    expect(answer).toContain("$signalbox.redacted");
  });

  it("a mark inside a map's body: the child returns its output sealed, the unmarked parent's nodes read it", async () => {
    const workflowId = `sensitive-body-${crypto.randomUUID().slice(0, 6)}`;
    await register({
      id: workflowId,
      name: "Marked body",
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "[1, 2]",
            body: {
              nodes: [
                {
                  id: "make",
                  type: "transform",
                  sensitive: "output",
                  config: { set: { made: `'${canary.slice(0, 10)}' & '${canary.slice(10)}'` } },
                },
              ],
              output: "made",
            },
            output: "made",
          },
        },
        { id: "count", type: "transform", config: { set: { n: "$count(made[$substring($, 0, 7) = 'CANARY-'])" } } },
      ],
      edges: [{ from: "each", to: "count" }],
    });
    const runId = await startManual(workflowId, {});
    const report = await settleTree(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.n).toBe(2);
    for (const id of [runId, `${runId}.each.1.0`]) {
      await runInDurableObject(runObject(id), (instance) => instance.idle());
      expect(await doDump(id)).not.toContain(canary);
    }
  });
});
