import { env } from "cloudflare:workers";
import { createMimeMessage } from "mimetext";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { textPdf } from "../support/documents";
import { settleTree } from "./children-helpers";
import { api, register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, runIdsOf, runWatchdog } from "./trigger-support";

interface Attachment {
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

/** A raw RFC 5322 message made with mimetext, as a mail server would hand it to Email Routing. */
function rawMessage(options: {
  from: string;
  to: string;
  messageId?: string;
  subject?: string;
  text?: string;
  html?: string;
  attachments?: Attachment[];
}): string {
  const mime = createMimeMessage();
  mime.setSender({ name: "Ada Sender", addr: options.from });
  mime.setRecipient(options.to);
  mime.setSubject(options.subject ?? "Invoice 42");
  if (options.messageId) mime.setHeader("Message-ID", options.messageId);
  mime.addMessage({ contentType: "text/plain", data: options.text ?? "Please find the invoice attached." });
  if (options.html) mime.addMessage({ contentType: "text/html", data: options.html });
  for (const attachment of options.attachments ?? []) {
    mime.addAttachment({
      filename: attachment.filename,
      contentType: attachment.contentType,
      data: btoa(String.fromCharCode(...attachment.bytes)),
    });
  }
  return mime.asRaw();
}

/** A ForwardableEmailMessage as Email Routing passes it to `email()`, recording what the Worker answers. */
function inbound(raw: string | Uint8Array, envelope: { from: string; to: string }) {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const rejected: string[] = [];
  // Email Routing hands the headers over parsed as well; the Message-ID is the one they record.
  const messageId = /^message-id:\s*(.+?)\r?$/im.exec(new TextDecoder().decode(bytes))?.[1];
  const message: ForwardableEmailMessage = {
    from: envelope.from,
    to: envelope.to,
    headers: new Headers(messageId ? { "message-id": messageId } : {}),
    raw: new Blob([bytes]).stream(),
    rawSize: bytes.byteLength,
    canBeForwarded: true,
    setReject: (reason: string) => {
      rejected.push(reason);
    },
    forward: () => Promise.reject(new Error("the email trigger never forwards")),
    reply: () => Promise.reject(new Error("the email trigger never replies")),
  };
  return { message, rejected };
}

async function deliverEmail(raw: string | Uint8Array, envelope: { from: string; to: string }) {
  const { message, rejected } = inbound(raw, envelope);
  await worker.email(message, env);
  return rejected;
}

async function runsOf(workflowId: string, count = 1): Promise<string[]> {
  return vi.waitFor(
    async () => {
      const ids = await runIdsOf(workflowId);
      if (ids.length < count) throw new Error(`${ids.length} of ${count} runs so far`);
      return ids;
    },
    { timeout: 10_000, interval: 50 },
  );
}

interface RejectionRow {
  from: string;
  to: string;
  messageId: string | null;
  workflowId: string | null;
  code: string;
  reason: string;
  size: number;
}

async function rejections(query = ""): Promise<RejectionRow[]> {
  const response = await api(`/api/email/rejections${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { rejections: RejectionRow[] }).rejections;
}

/** Bytes of every value 0-255 after a PDF header: what survives only if nothing re-encodes them. */
function pdfLike(): Uint8Array {
  const header = new TextEncoder().encode("%PDF-1.4\n");
  const body = Uint8Array.from({ length: 512 }, (_, index) => index % 256);
  const bytes = new Uint8Array(header.length + body.length);
  bytes.set(header);
  bytes.set(body, header.length);
  return bytes;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("email trigger", () => {
  it("hands an attachment to an extract step as it came: the attachment itself, or its ref", async () => {
    const pdf = textPdf([["Invoice INV-9", "Total due: 80.00 EUR"]]);
    await register(
      definition("mail-extract", [{ type: "email", address: "scan@acme.test" }], {
        nodes: [
          { id: "whole", type: "extract", config: { file: "input.attachments[0]", output: "whole" } },
          { id: "byRef", type: "extract", config: { file: "input.attachments[0].ref", output: "byRef" } },
        ],
      }),
    );
    const raw = rawMessage({
      from: "ada@vendor.test",
      to: "scan@acme.test",
      messageId: "<invoice-9@vendor.test>",
      attachments: [{ filename: "invoice-9.bin", contentType: "application/pdf", bytes: pdf }],
    });
    expect(await deliverEmail(raw, { from: "ada@vendor.test", to: "scan@acme.test" })).toEqual([]);
    const [runId] = await runsOf("mail-extract");
    const report = await settle(runId as string);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    for (const key of ["whole", "byRef"]) {
      const doc = report.context[key] as { text: string; pages: number; metadata: Record<string, unknown> };
      expect(doc.text).toContain("Total due: 80.00 EUR");
      expect(doc.pages).toBe(1);
      expect(doc.metadata.type).toBe("pdf");
    }
    // The attachment's own name and type come along when the step is given the attachment.
    expect((report.context.whole as { metadata: Record<string, unknown> }).metadata).toMatchObject({
      filename: "invoice-9.bin",
      contentType: "application/pdf",
    });
  }, 30_000); // two PDF extractions: CPU-bound, slow when every test file runs at once

  it("starts a run whose input is the message, with each attachment stored in R2 byte for byte", async () => {
    await register(definition("mail-invoices", [{ type: "email", address: "invoices@acme.test" }]));
    const pdf = pdfLike();
    const raw = rawMessage({
      from: "ada@vendor.test",
      to: "invoices@acme.test",
      messageId: "<invoice-42@vendor.test>",
      html: "<p>Please find the invoice attached.</p>",
      attachments: [
        { filename: "invoice-42.pdf", contentType: "application/pdf", bytes: pdf },
        { filename: "notes.txt", contentType: "text/plain", bytes: new TextEncoder().encode("net 30") },
      ],
    });
    const rejected = await deliverEmail(raw, { from: "Ada@Vendor.test", to: "Invoices@acme.test" });
    expect(rejected).toEqual([]);

    const [runId] = await runsOf("mail-invoices");
    const report = await settle(runId as string);
    expect(report.status).toBe("success");
    const hash = await sha256Hex(pdf);
    expect(report.input).toEqual({
      from: "ada@vendor.test",
      to: "invoices@acme.test",
      subject: "Invoice 42",
      text: expect.stringContaining("Please find the invoice attached."),
      html: expect.stringContaining("<p>Please find the invoice attached.</p>"),
      messageId: "<invoice-42@vendor.test>",
      attachments: [
        {
          filename: "invoice-42.pdf",
          contentType: "application/pdf",
          size: pdf.byteLength,
          ref: { "$signalbox.blob": `sha256:${hash}`, size: pdf.byteLength, type: "bytes" },
        },
        {
          filename: "notes.txt",
          contentType: "text/plain",
          size: 6,
          ref: { "$signalbox.blob": expect.stringMatching(/^sha256:[0-9a-f]{64}$/), size: 6, type: "bytes" },
        },
      ],
    });
    expect(report.trigger).toMatchObject({
      type: "email",
      id: "<invoice-42@vendor.test>",
      from: "ada@vendor.test",
      to: "invoices@acme.test",
      messageId: "<invoice-42@vendor.test>",
    });
    // The reference resolves where every blob of the run lives, to the exact bytes sent.
    const stored = await env.BLOBS.get(`runs/${runId}/blobs/${hash}`);
    expect(stored?.httpMetadata?.contentType).toBe("application/pdf");
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(pdf);
  });

  it("starts one run for a Message-ID delivered twice and leaves no blobs of the second delivery", async () => {
    await register(definition("mail-redelivered", [{ type: "email", address: "again@acme.test" }]));
    const only = new TextEncoder().encode("bytes this test alone sends");
    const raw = rawMessage({
      from: "ada@vendor.test",
      to: "again@acme.test",
      messageId: "<once@vendor.test>",
      attachments: [{ filename: "a.txt", contentType: "text/plain", bytes: only }],
    });
    await deliverEmail(raw, { from: "ada@vendor.test", to: "again@acme.test" });
    const [runId] = await runsOf("mail-redelivered");
    await settle(runId as string);
    expect(await deliverEmail(raw, { from: "ada@vendor.test", to: "again@acme.test" })).toEqual([]);
    await settle(runId as string);
    expect(await runIdsOf("mail-redelivered")).toEqual([runId]);
    const hash = await sha256Hex(only);
    const listed = await env.BLOBS.list({ prefix: "runs/" });
    const holders = listed.objects.filter((object) => object.key.endsWith(hash)).map((object) => object.key);
    expect(holders).toEqual([`runs/${runId}/blobs/${hash}`]);
  });

  it("a replay of a mail's run takes the attachments along, byte for byte, under its own run", async () => {
    await register(definition("mail-replayed", [{ type: "email", address: "replay@acme.test" }]));
    const pdf = pdfLike();
    const envelope = { from: "ada@vendor.test", to: "replay@acme.test" };
    const raw = rawMessage({
      ...envelope,
      messageId: "<replay@vendor.test>",
      // Over the inline limit, so the input itself is stored as a blob and the reference sits inside it.
      html: `<p>${"x".repeat(70_000)}</p>`,
      attachments: [{ filename: "a.pdf", contentType: "application/pdf", bytes: pdf }],
    });
    await deliverEmail(raw, envelope);
    const [original] = await runsOf("mail-replayed");
    expect((await settle(original as string)).status).toBe("success");
    const replayed = await api(`/api/runs/${original}/replay`, { method: "POST", json: { fromNode: "echo" } });
    expect(replayed.status).toBe(202);
    const { runId } = (await replayed.json()) as { runId: string };
    expect((await settle(runId)).status).toBe("success");
    const stored = await env.BLOBS.get(`runs/${runId}/blobs/${await sha256Hex(pdf)}`);
    expect(stored?.httpMetadata?.contentType).toBe("application/pdf");
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(pdf);
  });

  it("a map over the attachments hands each child run its file under the child's own prefix", async () => {
    await register({
      ...definition("mail-mapped", [{ type: "email", address: "mapped@acme.test" }]),
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "input.attachments",
            body: {
              nodes: [{ id: "seen", type: "transform", config: { set: { file: "input.ref" } } }],
              output: "file",
            },
            output: "files",
          },
        },
      ],
    });
    const pdf = pdfLike();
    const envelope = { from: "ada@vendor.test", to: "mapped@acme.test" };
    const raw = rawMessage({
      ...envelope,
      messageId: "<mapped@vendor.test>",
      attachments: [{ filename: "a.pdf", contentType: "application/pdf", bytes: pdf }],
    });
    await deliverEmail(raw, envelope);
    const [runId] = await runsOf("mail-mapped");
    const report = await settleTree(runId as string);
    expect(report.status).toBe("success");
    const child = `${runId}.each.1.0`;
    const stored = await env.BLOBS.get(`runs/${child}/blobs/${await sha256Hex(pdf)}`);
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(pdf);
  });

  it("takes mail for any address of a domain with *@domain, and an exact address wins over it", async () => {
    await register(definition("mail-domain", [{ type: "email", address: "*@support.test" }]));
    await register(definition("mail-billing", [{ type: "email", address: "billing@support.test" }]));
    await deliverEmail(
      rawMessage({ from: "bob@client.test", to: "help@support.test", messageId: "<w1@client.test>" }),
      {
        from: "bob@client.test",
        to: "help@support.test",
      },
    );
    await deliverEmail(
      rawMessage({ from: "bob@client.test", to: "billing@support.test", messageId: "<w2@client.test>" }),
      { from: "bob@client.test", to: "billing@support.test" },
    );
    const [domainRun] = await runsOf("mail-domain");
    const [billingRun] = await runsOf("mail-billing");
    expect((await settle(domainRun as string)).input).toMatchObject({ to: "help@support.test", attachments: [] });
    expect((await settle(billingRun as string)).input).toMatchObject({ to: "billing@support.test" });
    expect(await runIdsOf("mail-domain")).toHaveLength(1);
  });

  it("refuses and records mail for no workflow, from a sender not allowed, and over each limit", async () => {
    await register(
      definition("mail-guarded", [
        {
          type: "email",
          address: "guarded@acme.test",
          allowFrom: ["ap@partner.test", "*@trusted.test"],
          maxBytes: "8KiB",
          maxAttachmentBytes: 1024,
          maxAttachments: 2,
        },
      ]),
    );
    const small = (name: string) => ({ filename: name, contentType: "text/plain", bytes: new Uint8Array(10) });
    const cases = [
      {
        envelope: { from: "ap@partner.test", to: "nobody@acme.test" },
        attachments: [],
        code: "email.no_workflow",
        reason: "no workflow takes mail for nobody@acme.test",
      },
      {
        envelope: { from: "eve@elsewhere.test", to: "guarded@acme.test" },
        attachments: [],
        code: "email.sender_not_allowed",
        reason: "eve@elsewhere.test may not send to guarded@acme.test",
      },
      {
        envelope: { from: "ap@partner.test", to: "guarded@acme.test" },
        attachments: [{ filename: "big.bin", contentType: "application/octet-stream", bytes: new Uint8Array(9000) }],
        code: "email.too_large",
        reason: "over the limit of 8 KiB",
      },
      {
        envelope: { from: "clerk@trusted.test", to: "guarded@acme.test" },
        attachments: [small("1.txt"), small("2.txt"), small("3.txt")],
        code: "email.too_many_attachments",
        reason: "message has 3 attachments, over the limit of 2",
      },
      {
        envelope: { from: "clerk@trusted.test", to: "guarded@acme.test" },
        attachments: [{ filename: "scan.png", contentType: "image/png", bytes: new Uint8Array(2048) }],
        code: "email.attachment_too_large",
        reason: "attachment scan.png of 2 KiB is over the limit of 1 KiB",
      },
    ];
    for (const [index, entry] of cases.entries()) {
      const raw = rawMessage({
        ...entry.envelope,
        messageId: `<refused-${index}@test>`,
        attachments: entry.attachments,
      });
      const rejected = await deliverEmail(raw, entry.envelope);
      expect(rejected, entry.code).toHaveLength(1);
      expect(rejected[0], entry.code).toContain(entry.reason);
    }
    expect(await runIdsOf("mail-guarded")).toEqual([]);
    const recorded = (await rejections()).filter((row) => ["nobody@acme.test", "guarded@acme.test"].includes(row.to));
    expect(recorded.map((row) => row.code).sort()).toEqual(cases.map((entry) => entry.code).sort());
    const guarded = await rejections("?workflow=mail-guarded");
    expect(guarded.map((row) => row.code).sort()).toEqual(
      cases
        .slice(1)
        .map((entry) => entry.code)
        .sort(),
    );
    expect(guarded.find((row) => row.code === "email.sender_not_allowed")).toMatchObject({
      from: "eve@elsewhere.test",
      to: "guarded@acme.test",
      workflowId: "mail-guarded",
      // Refused before it was read: the id comes from the headers Email Routing passed.
      messageId: "<refused-1@test>",
      size: expect.any(Number),
    });
    // The metrics count them by code, for the workflow they were meant for.
    const metrics = (await (await api("/api/metrics?window=1h&workflow=mail-guarded")).json()) as {
      emailRejections: { total: number; byCode: Record<string, number> };
    };
    expect(metrics.emailRejections).toEqual({
      total: 4,
      byCode: {
        "email.attachment_too_large": 1,
        "email.sender_not_allowed": 1,
        "email.too_large": 1,
        "email.too_many_attachments": 1,
      },
    });
    const prometheus = await (await api("/api/metrics?window=1h&format=prometheus")).text();
    // Across workflows too: mail for no workflow counts under no workflow filter (earlier tests may add to it).
    expect(prometheus).toMatch(/^signalbox_email_rejections\{code="email\.no_workflow"\} [1-9]\d*$/m);
    // The allow-list passed, and an allowed sender's small message starts a run.
    await deliverEmail(
      rawMessage({ from: "ap@partner.test", to: "guarded@acme.test", messageId: "<ok@partner.test>" }),
      {
        from: "ap@partner.test",
        to: "guarded@acme.test",
      },
    );
    expect(await runsOf("mail-guarded")).toHaveLength(1);
  });

  it("refuses a message it cannot read, and one the trigger's schema does not accept", async () => {
    await register(
      definition("mail-strict", [
        {
          type: "email",
          address: "strict@acme.test",
          schema: { type: "object", required: ["attachments"], properties: { attachments: { minItems: 1 } } },
        },
      ]),
    );
    // Nested deeper than the parser follows (postal-mime's maxNestingDepth, 256).
    const depth = 300;
    let body = "text";
    for (let level = depth; level > 0; level--) {
      body = `Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n--b${level}\r\n${body}\r\n--b${level}--`;
    }
    const nested = `From: ap@partner.test\r\nTo: strict@acme.test\r\nMessage-ID: <deep@partner.test>\r\n${body}\r\n`;
    const envelope = { from: "ap@partner.test", to: "strict@acme.test" };
    const unreadable = await deliverEmail(nested, envelope);
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]).toMatch(/^message could not be read/);
    const without = await deliverEmail(rawMessage({ ...envelope, messageId: "<bare@partner.test>" }), envelope);
    expect(without).toEqual([expect.stringContaining("does not match the trigger's schema")]);
    expect((await rejections("?workflow=mail-strict")).map((row) => row.code).sort()).toEqual([
      "email.input_invalid",
      "email.unparseable",
    ]);
    expect(await runIdsOf("mail-strict")).toEqual([]);
  });

  it("maps {body, headers} with the trigger's input, and refuses a message its mapping fails on", async () => {
    await register(
      definition("mail-mapped-input", [
        {
          type: "email",
          address: "mapped-input@acme.test",
          input:
            "$count(body.attachments) = 0 ? $error('an invoice PDF is required') : { 'subject': body.subject, 'files': body.attachments.filename, 'id': headers.'message-id' }",
        },
      ]),
    );
    const envelope = { from: "ap@partner.test", to: "mapped-input@acme.test" };
    const bare = await deliverEmail(rawMessage({ ...envelope, messageId: "<no-pdf@partner.test>" }), envelope);
    expect(bare).toEqual([expect.stringContaining("an invoice PDF is required")]);
    expect((await rejections("?workflow=mail-mapped-input"))[0]).toMatchObject({
      code: "email.input_invalid",
      messageId: "<no-pdf@partner.test>",
    });
    const withPdf = rawMessage({
      ...envelope,
      messageId: "<pdf@partner.test>",
      attachments: [{ filename: "i.pdf", contentType: "application/pdf", bytes: pdfLike() }],
    });
    expect(await deliverEmail(withPdf, envelope)).toEqual([]);
    const [runId] = await runsOf("mail-mapped-input");
    expect((await settle(runId as string)).input).toEqual({
      subject: "Invoice 42",
      files: "i.pdf",
      id: "<pdf@partner.test>",
    });
  });

  it("refuses mail for a disabled workflow", async () => {
    await register(definition("mail-paused", [{ type: "email", address: "paused@acme.test" }]));
    expect((await api("/api/workflows/mail-paused/disable", { method: "POST" })).status).toBe(200);
    const envelope = { from: "ap@partner.test", to: "paused@acme.test" };
    const rejected = await deliverEmail(rawMessage({ ...envelope, messageId: "<p@partner.test>" }), envelope);
    expect(rejected).toEqual(["mail for paused@acme.test is not taken now"]);
    expect((await rejections("?workflow=mail-paused"))[0]?.code).toBe("email.workflow_disabled");
  });

  it("keeps rejections for a month: the watchdog drops older ones", async () => {
    const envelope = { from: "ap@partner.test", to: "old@nowhere.test" };
    await deliverEmail(rawMessage({ ...envelope, messageId: "<old@partner.test>" }), envelope);
    const kept = () => rejections().then((rows) => rows.filter((row) => row.to === envelope.to));
    expect(await kept()).toHaveLength(1);
    await runWatchdog(Date.now() + 29 * 24 * 3_600_000);
    expect(await kept()).toHaveLength(1);
    await runWatchdog(Date.now() + 31 * 24 * 3_600_000);
    expect(await kept()).toEqual([]);
  });

  it("pages rejections newest first with a cursor, and refuses a cursor it did not give", async () => {
    for (const index of [1, 2, 3]) {
      const envelope = { from: "ap@partner.test", to: `gone-${index}@nowhere.test` };
      await deliverEmail(rawMessage({ ...envelope, messageId: `<page-${index}@partner.test>` }), envelope);
    }
    const first = (await (await api("/api/email/rejections?limit=2")).json()) as {
      rejections: RejectionRow[];
      cursor: string;
    };
    expect(first.rejections.map((row) => row.to)).toEqual(["gone-3@nowhere.test", "gone-2@nowhere.test"]);
    const second = (await (await api(`/api/email/rejections?limit=2&cursor=${first.cursor}`)).json()) as {
      rejections: RejectionRow[];
    };
    expect(second.rejections[0]?.to).toBe("gone-1@nowhere.test");
    await expectError(await api("/api/email/rejections?cursor=nope"), 400, "request.invalid");
  });
});

describe("email trigger definitions", () => {
  it("refuses an address another workflow takes mail for, naming it, and lets its owner register again", async () => {
    await register(definition("mail-owner", [{ type: "email", address: "orders@acme.test" }]));
    const taken = await api("/api/workflows", {
      method: "POST",
      json: definition("mail-squatter", [{ type: "manual" }, { type: "email", address: "Orders@ACME.test" }]),
    });
    const body = await expectError(taken, 422, "definition.trigger_conflict");
    expect(body.error.message).toContain("workflow mail-owner already takes mail for orders@acme.test");
    expect(body.error.details).toMatchObject({ issues: [{ path: ["triggers", 1, "address"] }] });
    // The owner's new version keeps the address; a wildcard of the same domain is another claim.
    await register(definition("mail-owner", [{ type: "email", address: "orders@acme.test", allowFrom: ["*@x.test"] }]));
    await register(definition("mail-squatter", [{ type: "email", address: "*@acme.test" }]));
    // Once the owner is deleted, the address is free.
    expect((await api("/api/workflows/mail-owner", { method: "DELETE" })).status).toBe(200);
    await register(definition("mail-heir", [{ type: "email", address: "orders@acme.test" }]));
  });

  it("of two registrations claiming one address at once, one wins and the other is told who holds it", async () => {
    const claim = (id: string) =>
      api("/api/workflows", { method: "POST", json: definition(id, [{ type: "email", address: "race@acme.test" }]) });
    const answers = await Promise.all([claim("mail-race-a"), claim("mail-race-b")]);
    const statuses = answers.map((response) => response.status).sort();
    expect(statuses).toEqual([201, 422]);
    const loser = answers.find((response) => response.status === 422) as Response;
    const body = await expectError(loser, 422, "definition.trigger_conflict");
    expect(body.error.message).toMatch(/workflow mail-race-[ab] already takes mail for race@acme\.test/);
    const owners = await env.DB.prepare(
      "SELECT workflow_id FROM trigger_subscriptions WHERE kind = 'email' AND key = ?",
    )
      .bind("race@acme.test")
      .all<{ workflow_id: string }>();
    expect(owners.results).toHaveLength(1);
  });

  it("refuses a malformed address, a malformed size and one address twice in a definition", async () => {
    const invalid = async (triggers: unknown[], code: string, path: (string | number)[]) => {
      const response = await api("/api/workflows", { method: "POST", json: definition("mail-invalid", triggers) });
      const body = await expectError(response, 422, code);
      expect(body.error.details).toMatchObject({ issues: [{ path }] });
    };
    await invalid([{ type: "email", address: "not-an-address" }], "definition.invalid", ["triggers", 0, "address"]);
    await invalid([{ type: "email", address: "a@b.test", allowFrom: ["*"] }], "definition.invalid", [
      "triggers",
      0,
      "allowFrom",
      0,
    ]);
    await invalid([{ type: "email", address: "a@b.test", maxBytes: "lots" }], "definition.invalid", [
      "triggers",
      0,
      "maxBytes",
    ]);
    await invalid(
      [
        { type: "email", address: "a@b.test" },
        { type: "email", address: "A@b.test" },
      ],
      "definition.invalid",
      ["triggers", 1, "address"],
    );
  });
});
