import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createMimeMessage } from "mimetext";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";
import { docx, textPdf } from "../support/documents";
import { type LlmRecordedRequest, type LlmReply, type LlmServer, startLlmServer } from "../support/llm-server";
import { startTestServer } from "../support/test-server";
import { approvalLink, decideByForm, waitForStatus } from "./approvals";
import { runCli } from "./cli-process";
import { type Harness, registerWorkflow, startHarness, step, type TestServer, waitFor, waitForRunEnd } from "./harness";

/**
 * The invoice-intake and document-triage examples as shipped in workflows/, under wrangler dev:
 * real PDF and Word files, an email through the local Email Routing endpoint, the model behind
 * the OpenAI-compatible test server, an approval through its emailed link. The accounting system
 * and the document store are the test server here (each definition's 'settings' step names
 * their URL), so every call that reaches them is counted.
 */

const examplesDir = join(projectRoot, "workflows");
let harness: Harness;
let llm: LlmServer;
let outside: TestServer;

type Definition = { id: string; tests?: unknown[]; nodes: { id: string; config: { set?: Record<string, string> } }[] };

async function example(file: string): Promise<Definition> {
  return JSON.parse(await readFile(join(examplesDir, file), "utf8")) as Definition;
}

/** The shipped definition with its stand-in's URL in 'settings' swapped for the test server's. */
async function pointedAtTestServer(file: string, standIn: string, url: string): Promise<Definition> {
  const definition = await example(file);
  const settings = definition.nodes.find((node) => node.id === "settings")?.config.set;
  const expression = settings?.settings;
  if (!settings || !expression?.includes(standIn)) throw new Error(`${file}: no 'settings' naming ${standIn}`);
  settings.settings = expression.replace(`run.publicUrl & '/hooks/${standIn}'`, `'${url}'`);
  return definition;
}

const lastMessage = (request: LlmRecordedRequest) => String(request.body.messages?.at(-1)?.content ?? "");
const systemOf = (request: LlmRecordedRequest) => String(request.body.messages?.[0]?.content ?? "");
const usage = { input: 300, output: 80 };

/** Reads the invoice the way the prompt shows it: the PDF's lines, as textPdf below writes them. */
function readInvoice(prompt: string): LlmReply {
  const text = prompt.split("Text of the attached PDF:\n\n")[1] ?? "";
  const lines = [...text.matchAll(/^(.+), (\d+) at ([\d.]+): ([\d.]+)$/gm)].map((match) => ({
    description: match[1],
    quantity: Number(match[2]),
    unitPrice: Number(match[3]),
    amount: Number(match[4]),
  }));
  const total = /^Total ([A-Z]{3}) ([\d.]+)$/m.exec(text);
  return {
    json: {
      vendor: text.split("\n")[0]?.trim(),
      number: /Invoice (\S+)/.exec(text)?.[1],
      date: /Date: (\S+)/.exec(text)?.[1],
      currency: total?.[1],
      lines,
      total: Number(total?.[2]),
      confidence: 0.92,
    },
    usage,
  };
}

/** The model for both examples, told apart by their system prompts. */
function model(request: LlmRecordedRequest): LlmReply | undefined {
  const system = systemOf(request);
  const prompt = lastMessage(request);
  if (system.includes("accounts payable")) return readInvoice(prompt);
  if (system.includes("You sort incoming business documents")) {
    const type = /AGREEMENT/.test(prompt) ? "contract" : /Invoice/.test(prompt) ? "invoice" : "other";
    return { json: { type, confidence: type === "other" ? 0.6 : 0.95 }, usage };
  }
  if (system.includes("You read contracts")) {
    const parties = /between (.+) and (.+?) takes effect on (\S+?)\./.exec(prompt);
    return {
      json: {
        fields: {
          parties: [parties?.[1], parties?.[2]],
          effectiveDate: parties?.[3],
          endDate: null,
          governingLaw: null,
        },
        confidence: 0.9,
      },
      usage,
    };
  }
  if (system.includes("documents of no known type")) {
    return {
      json: { fields: { title: null, summary: prompt.split("\n\n")[1]?.slice(0, 80) }, confidence: 0.8 },
      usage,
    };
  }
  return undefined;
}

beforeAll(async () => {
  llm = await startLlmServer({ respond: model });
  outside = await startTestServer();
  harness = await startHarness({ vars: { LLM_BASE_URL: `${llm.url}/v1`, LLM_MODEL: "e2e-documents" } });
  for (const file of ["stand-in-vendors.json", "stand-in-accounting.json", "stand-in-document-store.json"]) {
    await registerWorkflow(harness, await example(file));
  }
  await registerWorkflow(
    harness,
    await pointedAtTestServer("invoice-intake.json", "stand-in-accounting", `${outside.url}/accounting/invoices`),
  );
  await registerWorkflow(
    harness,
    await pointedAtTestServer("document-triage.json", "stand-in-document-store", `${outside.url}/store/documents`),
  );
});

afterAll(async () => {
  await harness?.stop();
  await outside?.close();
  await llm?.close();
});

function invoicePdf(vendor: string, number: string, lines: [string, number, number][], currency = "EUR"): Uint8Array {
  const total = lines.reduce((sum, [, quantity, price]) => sum + quantity * price, 0);
  return textPdf([
    [
      vendor,
      `Invoice ${number}`,
      "Date: 2026-11-30",
      ...lines.map(
        ([what, quantity, price]) => `${what}, ${quantity} at ${price.toFixed(2)}: ${(quantity * price).toFixed(2)}`,
      ),
      `Total ${currency} ${total.toFixed(2)}`,
    ],
  ]);
}

/** Mails the invoice to invoice-intake through wrangler's local Email Routing endpoint. */
async function mailInvoice(messageId: string, attachment: { filename: string; contentType: string; data: Uint8Array }) {
  const from = "billing@acme.example";
  const to = "invoices@example.com";
  const mime = createMimeMessage();
  mime.setSender(from);
  mime.setRecipient(to);
  mime.setSubject(`Invoice ${attachment.filename}`);
  mime.setHeader("Message-ID", messageId);
  mime.addMessage({ contentType: "text/plain", data: "Please find our invoice attached." });
  mime.addAttachment({
    filename: attachment.filename,
    contentType: attachment.contentType,
    data: Buffer.from(attachment.data).toString("base64"),
  });
  const query = new URLSearchParams({ from, to });
  const response = await fetch(`${harness.baseUrl}/cdn-cgi/local/email?${query}`, {
    method: "POST",
    body: mime.asRaw(),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** The run that the message with this Message-ID started. */
function runOfMessage(workflowId: string, messageId: string): Promise<string> {
  return waitFor(
    `the run of ${messageId}`,
    async () => {
      const response = await harness.api(`/api/runs?workflow=${workflowId}&limit=50`);
      const { runs } = (await response.json()) as { runs: { runId: string }[] };
      for (const { runId } of runs) {
        const report = await harness
          .api(`/api/runs/${runId}`)
          .then((r) => r.json() as Promise<{ input: { messageId?: string } }>);
        if (report.input.messageId === messageId) return runId;
      }
      return undefined;
    },
    { harness },
  );
}

const callsTo = (path: string) => outside.requests.filter((request) => request.path === path);
const bookings = (number: string) =>
  callsTo("/accounting/invoices").filter(
    (request) => (JSON.parse(request.body) as { number: string }).number === number,
  );

describe("invoice-intake under wrangler dev", () => {
  it("books a small invoice from a known vendor without approval, once", async () => {
    const messageId = "<inv-1001@acme.example>";
    const pdf = invoicePdf("Acme Office Supplies", "INV-1001", [
      ["Paper A4", 10, 18.5],
      ["Toner", 1, 55.5],
    ]);
    await mailInvoice(messageId, { filename: "INV-1001.pdf", contentType: "application/pdf", data: pdf });
    const report = await waitForRunEnd(harness, await runOfMessage("invoice-intake", messageId));
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.invoice).toMatchObject({ vendor: "Acme Office Supplies", number: "INV-1001", total: 240.5 });
    expect(report.context.vendor).toMatchObject({ known: true, id: "V-100" });
    expect(step(report, "approve").status).toBe("skipped");
    expect(step(report, "extract-fields").llm?.calls).toMatchObject([{ outcome: "ok", model: "e2e-documents" }]);
    const [booked, ...more] = bookings("INV-1001");
    expect(more).toEqual([]);
    expect(booked?.headers["idempotency-key"]).toBe("invoice:V-100:INV-1001");
    expect(JSON.parse(booked?.body ?? "{}")).toMatchObject({
      vendorId: "V-100",
      total: 240.5,
      currency: "EUR",
      approvedBy: "auto, under 1000",
      messageId,
    });
  });

  it("sends a large invoice to the approver, whose corrected total is booked once", async () => {
    const messageId = "<inv-1002@acme.example>";
    const pdf = invoicePdf("Acme Office Supplies", "INV-1002", [["Standing desk", 8, 600]]);
    await mailInvoice(messageId, { filename: "INV-1002.pdf", contentType: "application/pdf", data: pdf });
    const runId = await runOfMessage("invoice-intake", messageId);
    const waiting = await waitForStatus(harness, runId, "needs_review");
    expect(step(waiting, "approve").status).toBe("needs_review");
    expect(bookings("INV-1002")).toEqual([]);

    const link = await approvalLink(harness, runId, "ap-approver@example.com");
    const decided = await decideByForm(harness, link, { decision: "approve", "edit.total": "4750" });
    expect(decided.status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.approval).toMatchObject({ decision: "approve", by: "ap-approver@example.com" });
    const booked = bookings("INV-1002");
    expect(booked).toHaveLength(1);
    expect(booked[0]?.headers["idempotency-key"]).toBe("invoice:V-100:INV-1002");
    expect(JSON.parse(booked[0]?.body ?? "{}")).toMatchObject({ total: 4750, approvedBy: "ap-approver@example.com" });
  });

  it("holds an invoice from a vendor the directory does not know, and books nothing", async () => {
    const messageId = "<inv-77@umbrella.example>";
    const pdf = invoicePdf("Umbrella Corp", "U-77", [["Consulting", 2, 90]]);
    await mailInvoice(messageId, { filename: "U-77.pdf", contentType: "application/pdf", data: pdf });
    const report = await waitForRunEnd(harness, await runOfMessage("invoice-intake", messageId));
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    // The stand-in directory answered through a child run: its output is the vendor.
    expect(report.context.vendor).toEqual({ known: false, name: "Umbrella Corp" });
    expect(report.context.checks).toMatchObject({ problems: ["unknown vendor Umbrella Corp"] });
    expect(step(report, "hold").status).toBe("success");
    expect(step(report, "post").status).toBe("skipped");
    expect(bookings("U-77")).toEqual([]);
  });

  it("fails the run of an email whose attachment is not a PDF, with nothing sent to the model", async () => {
    const messageId = "<inv-1003@acme.example>";
    const before = llm.requests.length;
    const data = new TextEncoder().encode("Invoice INV-1003, total EUR 12.00");
    await mailInvoice(messageId, { filename: "INV-1003.txt", contentType: "text/plain", data });
    const report = await waitForRunEnd(harness, await runOfMessage("invoice-intake", messageId));
    expect(report.status).toBe("failed");
    expect(step(report, "read").error).toMatchObject({ code: "extract.no_file" });
    expect(report.error).toMatchObject({ code: "extract.no_file" });
    expect(step(report, "extract-fields").status).not.toBe("success");
    expect(llm.requests.length).toBe(before);
  });
});

describe("document-triage under wrangler dev", () => {
  async function upload(key: string, body: Uint8Array, contentType: string): Promise<string> {
    const put = await harness.api(`/api/files/${key}`, {
      method: "PUT",
      headers: { "content-type": contentType },
      body: body.slice(),
    });
    expect(put.status).toBe(201);
    return waitFor(
      `the run for ${key}`,
      async () => {
        const response = await harness.api("/api/runs?workflow=document-triage&limit=50");
        const { runs } = (await response.json()) as { runs: { runId: string }[] };
        for (const { runId } of runs) {
          const report = await harness
            .api(`/api/runs/${runId}`)
            .then((r) => r.json() as Promise<{ input: { key: string } }>);
          if (report.input.key === key) return runId;
        }
        return undefined;
      },
      { harness },
    );
  }
  const stores = (key: string) =>
    callsTo("/store/documents").filter((request) => (JSON.parse(request.body) as { key: string }).key === key);

  it("stores an uploaded Word contract with its fields, once", async () => {
    const key = "documents/services-agreement.docx";
    const file = await docx(
      ["This agreement between Acme Office Supplies and Globex Logistics takes effect on 2026-12-01."],
      "SERVICES AGREEMENT",
    );
    const runId = await upload(key, file, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.classification).toEqual({ type: "contract", confidence: 0.95 });
    expect(step(report, "review").status).toBe("skipped");
    const [stored, ...more] = stores(key);
    expect(more).toEqual([]);
    expect(stored?.headers["idempotency-key"]).toBe(`document:${key}:${(report.input as { etag: string }).etag}`);
    expect(JSON.parse(stored?.body ?? "{}")).toMatchObject({
      type: "contract",
      fields: { parties: ["Acme Office Supplies", "Globex Logistics"], effectiveDate: "2026-12-01" },
      reviewedBy: null,
    });
  });

  it("sends a PDF of no known type to review, and stores it once the reviewer approves", async () => {
    const key = "documents/canteen-menu.pdf";
    const runId = await upload(key, textPdf([["Canteen menu for the week", "Monday: soup"]]), "application/pdf");
    const waiting = await waitForStatus(harness, runId, "needs_review");
    expect(waiting.context.classification).toEqual({ type: "other", confidence: 0.6 });
    expect(stores(key)).toEqual([]);
    const link = await approvalLink(harness, runId, "records@example.com");
    expect((await decideByForm(harness, link, { decision: "approve" })).status).toBe(200);
    const report = await waitForRunEnd(harness, runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const stored = stores(key);
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0]?.body ?? "{}")).toMatchObject({ type: "other", reviewedBy: "records@example.com" });
  });
});

describe("the examples' own test cases", () => {
  for (const file of ["invoice-intake.json", "document-triage.json", "stand-in-vendors.json"]) {
    it(`${file} passes its test cases through POST /api/workflows/:id/test`, async () => {
      const definition = await example(file);
      const response = await harness.api(`/api/workflows/${definition.id}/test`, {
        method: "POST",
        body: JSON.stringify({ tests: true, definition }),
      });
      const body = (await response.json()) as {
        passed: number;
        failed: number;
        results: { name: string; failures: unknown[] }[];
      };
      expect(response.status, JSON.stringify(body)).toBe(200);
      const failures = body.results
        .filter((result) => result.failures.length > 0)
        .map(({ name, failures }) => ({ name, failures }));
      expect(failures).toEqual([]);
      expect(body.failed).toBe(0);
      expect(body.passed).toBe(definition.tests?.length);
    });
  }

  it("signalbox test runs the same test cases from the files", async () => {
    const env = { SIGNALBOX_URL: harness.baseUrl, SIGNALBOX_TOKEN: harness.token };
    for (const file of ["invoice-intake.json", "document-triage.json"]) {
      const result = await runCli(["test", join("workflows", file)], { env });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const count = (await example(file)).tests?.length;
      expect(result.stdout).toContain(`${count} passed, 0 failed`);
    }
  });
});

describe("invoice-intake as shipped, booking with the local stand-in accounting system", () => {
  it("books an invoice through the stand-in, and the same invoice mailed again is answered as a duplicate", async () => {
    await registerWorkflow(harness, await example("invoice-intake.json"));
    const pdf = invoicePdf("Globex Logistics", "GL-2001", [["Freight", 3, 120]]);
    const booking = async (messageId: string) => {
      await mailInvoice(messageId, { filename: "GL-2001.pdf", contentType: "application/pdf", data: pdf });
      const report = await waitForRunEnd(harness, await runOfMessage("invoice-intake", messageId));
      expect(report.status, JSON.stringify(report.error)).toBe("success");
      return report.context.booking as { status: number; body: { runId: string; status: string } };
    };
    const first = await booking("<gl-2001@globex.example>");
    expect(first).toMatchObject({ status: 202, body: { status: "queued" } });
    const booked = await waitForRunEnd(harness, first.body.runId);
    expect(booked.workflowId).toBe("stand-in-accounting");
    expect(booked.context.input).toMatchObject({ vendorId: "V-200", number: "GL-2001", total: 360 });

    // Another message, the same invoice: the same Idempotency-Key, so the stand-in books nothing new.
    const again = await booking("<gl-2001-resent@globex.example>");
    expect(again).toMatchObject({ status: 200, body: { runId: first.body.runId, status: "duplicate" } });
    expect(bookings("GL-2001")).toEqual([]);
  });
});
