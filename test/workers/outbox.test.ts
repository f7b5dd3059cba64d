import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EmailPort } from "../../src/adapters/email";
import { bindingEmailPort } from "../../src/adapters/email/binding";
import { httpEmailPort } from "../../src/adapters/email/http";
import { buildMime } from "../../src/adapters/email/mime";
import { errorData } from "../../src/errors";
import type { RunObject } from "../../src/run/run-object";
import { api, register, settle, startManual } from "./helpers";
import { approvalWorkflow, outbox } from "./human-helpers";
import { expectError, fireAlarm, runObject, testServer } from "./support";

const sample = {
  id: "mail_test_1",
  from: "signalbox@example.com",
  to: "ann@example.com",
  subject: "Approve a chair",
  text: "Please approve.\nhttp://signalbox.test/approvals/abc",
  html: "<p>Please approve.</p>",
};

describe("GET /api/outbox", () => {
  it("lists every message with its recipient, subject and links, newest first, behind the API token", async () => {
    await register(approvalWorkflow("outbox-list", { to: ["ann@example.com", "bob@example.com"] }));
    const runId = await startManual("outbox-list", { item: "a lamp", amount: 9 });
    await settle(runId);
    const response = await api(`/api/outbox?run=${runId}`);
    expect(response.status).toBe(200);
    const { messages } = (await response.json()) as { messages: { to: string; subject: string; links: string[] }[] };
    expect(messages.map((message) => message.to).sort()).toEqual(["ann@example.com", "bob@example.com"]);
    for (const message of messages) {
      expect(message.subject).toBe("Approve a lamp");
      expect(message.links).toHaveLength(1);
      expect(message.links[0]).toMatch(/^http:\/\/signalbox\.test\/approvals\//);
    }
    const filtered = await api(`/api/outbox?run=${runId}&to=bob@example.com&limit=1`);
    expect(((await filtered.json()) as { messages: unknown[] }).messages).toHaveLength(1);
    await expectError(await SELF.fetch("http://signalbox.test/api/outbox"), 401, "auth.missing_token");
    await expectError(await api("/api/outbox?limit=0"), 400, "request.invalid");
  });
});

describe("email adapters", () => {
  it("builds a multipart text and HTML message with a real MIME library", () => {
    const raw = buildMime(sample, "example.com");
    expect(raw).toMatch(/^Date: /m);
    expect(raw).toContain("To: <ann@example.com>");
    expect(raw).toContain("Subject: =?utf-8?B?");
    expect(raw).toContain("Message-ID: <mail_test_1@example.com>");
    expect(raw).toMatch(/Content-Type: multipart\/alternative; boundary=/);
    expect(raw).toContain("Content-Type: text/plain; charset=UTF-8");
    expect(raw).toContain("Content-Type: text/html; charset=UTF-8");
  });

  it("sends through the send_email binding (locally: accepted and written to a file)", async () => {
    expect(env.EMAIL).toBeDefined();
    const port = bindingEmailPort(env.EMAIL as SendEmail);
    expect(await port.send(sample)).toEqual({ ok: true });
  });

  it("posts JSON with the key and an idempotency key to an HTTP email API", async () => {
    const port = httpEmailPort({ url: `${testServer.url}/email-api/send`, key: "k-123" });
    expect(await port.send(sample)).toEqual({ ok: true });
    const [request] = await testServer.requests("/email-api/send");
    expect(request?.method).toBe("POST");
    expect(request?.headers.authorization).toBe("Bearer k-123");
    expect(request?.headers["idempotency-key"]).toBe("mail_test_1");
    expect(JSON.parse(request?.body ?? "{}")).toEqual({
      from: sample.from,
      to: sample.to,
      subject: sample.subject,
      text: sample.text,
      html: sample.html,
    });
  });

  it("reports 5xx as retryable and 4xx as not", async () => {
    await testServer.script("/email-api/flaky", [{ status: 503 }, { status: 422 }]);
    const port = httpEmailPort({ url: `${testServer.url}/email-api/flaky` });
    const first = await port.send(sample);
    expect(first).toMatchObject({ ok: false, error: { code: "email.delivery_failed", retryable: true } });
    const second = await port.send(sample);
    expect(second).toMatchObject({ ok: false, error: { retryable: false } });
  });
});

describe("a send that keeps failing", () => {
  it("is retried with backoff on the alarm, then recorded on the step, which stays needs_review", async () => {
    // A nap first, so the failing adapter is in place before the human node mails.
    const definition = approvalWorkflow("outbox-failing", { remind: [] });
    definition.nodes.unshift({ id: "nap", type: "wait", config: { duration: "1h" } } as never);
    definition.edges.unshift({ from: "nap", to: "prep" });
    await register(definition);
    const runId = await startManual("outbox-failing", { item: "a desk", amount: 80 });
    await settle(runId);
    let sends = 0;
    const failing: EmailPort = {
      name: "http",
      send: async () => {
        sends += 1;
        return { ok: false, error: errorData("email.delivery_failed", "provider down", { retryable: true }) };
      },
    };
    await runInDurableObject(runObject(runId), async (instance: RunObject) => {
      instance.emailPort = failing;
    });
    expect(await fireAlarm(runId)).toBe(true); // the nap ends; the human node asks; the first send fails
    let report = await settle(runId);
    expect(report.status).toBe("needs_review");
    const timers = await runInDurableObject(runObject(runId), async (_instance: RunObject, state) =>
      state.storage.sql.exec<{ id: string; at: number }>("SELECT id, at FROM timers ORDER BY at").toArray(),
    );
    expect(timers.map((timer) => timer.id.split(":")[0])).toEqual(["mail", "expire"]);
    for (let attempt = 2; attempt <= 5; attempt++) expect(await fireAlarm(runId)).toBe(true);
    expect(sends).toBe(5);
    report = await settle(runId);
    const ask = report.steps.find((step) => step.nodeId === "ask");
    expect(report.status).toBe("needs_review");
    expect(ask).toMatchObject({
      status: "needs_review",
      error: { code: "email.delivery_failed" },
      review: { undelivered: ["ann@example.com"] },
    });
    const [message] = await outbox(runId);
    expect(message).toMatchObject({ status: "failed", attempts: 5, adapter: "http", error: "provider down" });
    expect(message?.links[0]).toContain("<redacted>");
  });
});
