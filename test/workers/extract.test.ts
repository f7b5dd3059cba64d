import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isBlobRef, refHash } from "../../src/lib/blob-ref";
import { corruptPdf, docx, imageOnlyPdf, plainZip, pngBytes, textPdf } from "../support/documents";
import { api, register, settle, startManual } from "./helpers";
import { spyQueue, startWithQueue } from "./steps-support";
import { expectError } from "./support";

let counter = 0;

/** Puts the file in the FILES bucket, as an upload would. */
async function upload(bytes: Uint8Array | string, contentType?: string): Promise<string> {
  counter += 1;
  const key = `extract-tests/${crypto.randomUUID()}-${counter}`;
  await env.FILES.put(key, bytes, contentType ? { httpMetadata: { contentType } } : undefined);
  return key;
}

/** Registers a one-node extract workflow and runs it with `input`. */
async function extract(config: Record<string, unknown>, input: unknown, retry?: unknown) {
  counter += 1;
  const workflowId = `extract-${counter}-${crypto.randomUUID().slice(0, 6)}`;
  await register({
    id: workflowId,
    name: "extract test",
    nodes: [{ id: "read", type: "extract", config: { output: "doc", ...config }, ...(retry ? { retry } : {}) }],
    edges: [],
  });
  const report = await settle(await startManual(workflowId, input));
  return { report, doc: report.context.doc as Record<string, unknown> | undefined };
}

describe("extract node", () => {
  it("reads a PDF's text layer with its page count and title, from an r2 trigger's reference", async () => {
    const key = await upload(
      textPdf([["Invoice INV-7", "ACME Tools Ltd"], ["Total due: 1,250.00 EUR"]], { title: "INV-7" }),
      "application/pdf",
    );
    const { report, doc } = await extract({ file: "input" }, { ref: `r2://signalbox-files/${key}`, key, size: 1 });
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(doc?.pages).toBe(2);
    expect(doc?.text).toContain("Invoice INV-7");
    expect(doc?.text).toContain("Total due: 1,250.00 EUR");
    expect(doc?.metadata).toMatchObject({
      type: "pdf",
      contentType: "application/pdf",
      title: "INV-7",
      source: `r2://signalbox-files/${key}`,
    });
    expect((doc?.metadata as { bytes: number } | undefined)?.bytes).toBeGreaterThan(300);
    expect(doc?.chunks).toBeUndefined();
  });

  it("splits the text into overlapping chunks that carry their page", async () => {
    const lines = Array.from({ length: 30 }, (_, index) => `Clause ${index + 1} applies to every order.`);
    const key = await upload(textPdf([lines.slice(0, 15), lines.slice(15)]));
    const { report, doc } = await extract({ file: "input.key", chunk: { size: 300, overlap: 50 } }, { key });
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const text = doc?.text as string;
    const chunks = doc?.chunks as { index: number; text: string; start: number; end: number; page: number }[];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(300);
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    }
    for (let index = 1; index < chunks.length; index += 1) {
      const previous = chunks[index - 1] as (typeof chunks)[number];
      expect(chunks[index]?.start).toBe(previous.end - 50);
    }
    expect(chunks[0]?.page).toBe(1);
    expect(chunks.at(-1)?.page).toBe(2);
    expect(chunks.at(-1)?.end).toBe(text.length);
  });

  it("reads a Word document, an HTML page and plain text", async () => {
    const word = await upload(await docx(["Dear customer,", "Your order shipped."], "Shipping notice"));
    const html = await upload(
      "<html><head><title>Status</title></head><body><h2>All systems</h2><p>Operational <i>today</i>.</p></body></html>",
      "text/html",
    );
    const plain = await upload("Line one\nLine two\n", "text/plain");
    const results = await Promise.all([
      extract({ file: "input" }, `r2://signalbox-files/${word}`),
      extract({ file: "input" }, html),
      extract({ file: "input" }, plain),
    ]);
    const [fromWord, fromHtml, fromText] = results.map((result) => {
      expect(result.report.status, JSON.stringify(result.report.error)).toBe("success");
      return result.doc;
    });
    expect(fromWord).toMatchObject({
      text: "Shipping notice\n\nDear customer,\n\nYour order shipped.",
      metadata: { type: "docx" },
    });
    expect(fromWord?.pages).toBeUndefined();
    expect(fromHtml?.text).toContain("All systems");
    expect(fromHtml?.text).toContain("Operational today.");
    expect(fromHtml?.metadata).toMatchObject({ type: "html", title: "Status", contentType: "text/html" });
    expect(fromText).toMatchObject({ text: "Line one\nLine two\n", metadata: { type: "text" } });
  });

  it("reads an email attachment's reference with its declared content type and file name, and `type` overrides sniffing", async () => {
    const key = await upload("<p>Hello <b>there</b></p>");
    const attachment = {
      filename: "note.html",
      contentType: "text/html",
      size: 25,
      ref: `r2://signalbox-files/${key}`,
    };
    const { doc } = await extract({ file: "input.attachments[0]" }, { attachments: [attachment] });
    expect(doc).toMatchObject({ text: "Hello there", metadata: { type: "html", filename: "note.html" } });
    const { doc: raw } = await extract({ file: "input.attachments[0]", type: "text" }, { attachments: [attachment] });
    expect(raw).toMatchObject({ text: "<p>Hello <b>there</b></p>", metadata: { type: "text" } });
  });

  it("reads files in the steps queue's consumer when several extract steps are ready together", async () => {
    const pdf = await upload(textPdf([["Parallel PDF"]]));
    const word = await upload(await docx(["Parallel Word"]));
    const { queue, sent } = spyQueue({ drop: false });
    const definition = {
      id: `extract-parallel-${crypto.randomUUID().slice(0, 6)}`,
      name: "parallel extract",
      nodes: [
        { id: "a", type: "extract", config: { file: "input.pdf", output: "pdf" } },
        { id: "b", type: "extract", config: { file: "input.word", output: "word" } },
      ],
      edges: [],
    };
    const runId = await startWithQueue(definition, { pdf, word }, queue);
    const report = await settle(runId);
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(sent.messages.map((message) => message.nodeId).sort()).toEqual(["a", "b"]);
    expect(report.context).toMatchObject({ pdf: { text: "Parallel PDF", pages: 1 }, word: { text: "Parallel Word" } });
  });

  it("keeps a large text in R2 by reference, like any large context value", async () => {
    const key = await upload("All work and no play. ".repeat(5_000), "text/plain");
    const { report } = await extract({ file: "input" }, key);
    expect(report.status).toBe("success");
    // The report shows the reference; the value is the blob it names.
    const ref = report.context.doc;
    if (!isBlobRef(ref)) throw new Error(`doc was kept inline: ${JSON.stringify(ref).slice(0, 80)}`);
    const stored = await env.BLOBS.get(`runs/${report.runId}/blobs/${refHash(ref)}`);
    const value = JSON.parse((await stored?.text()) ?? "null") as { text: string; metadata: unknown };
    expect(value.text.length).toBe(110_000);
    expect(value.metadata).toMatchObject({ type: "text", bytes: 110_000 });
  });

  it("fails each bad file with its own code, none of them retried", async () => {
    const cases: [string, Uint8Array | string, string][] = [
      ["encrypted PDF", textPdf([["secret"]], { encrypt: true }), "extract.encrypted"],
      ["corrupt PDF", corruptPdf(), "extract.unreadable"],
      ["scanned PDF", imageOnlyPdf(), "extract.no_text"],
      ["PNG image", pngBytes(), "extract.unsupported_type"],
      ["ZIP archive", await plainZip(), "extract.unsupported_type"],
      [
        "corrupt DOCX",
        Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ..."word/document.xml".split("").map((c) => c.charCodeAt(0))]),
        "extract.unreadable",
      ],
      ["empty text", "   \n", "extract.no_text"],
    ];
    const results = await Promise.all(
      cases.map(async ([, bytes]) => extract({ file: "input" }, await upload(bytes), { maxAttempts: 3 })),
    );
    results.forEach(({ report }, index) => {
      const [what, , code] = cases[index] as (typeof cases)[number];
      expect(report.status, what).toBe("failed");
      expect(report.error, what).toMatchObject({ code, nodeId: "read", retryable: false });
      expect(report.steps[0]?.attempts, what).toBe(1);
    });
    expect(JSON.stringify(results[2]?.report.error)).toContain("no text layer");
  });

  it("fails a file over maxBytes or maxPages with extract.too_large, without reading it whole", async () => {
    const big = await upload("x".repeat(2_000), "text/plain");
    const { report } = await extract({ file: "input", maxBytes: 1_000 }, big);
    expect(report.error).toMatchObject({
      code: "extract.too_large",
      retryable: false,
      details: { bytes: 2_000, maxBytes: 1_000 },
    });
    const pages = await upload(textPdf([["one"], ["two"], ["three"]]));
    const { report: paged } = await extract({ file: "input", maxPages: 2 }, pages);
    expect(paged.error).toMatchObject({ code: "extract.too_large", details: { pages: 3, maxPages: 2 } });
  });

  it("fails clearly when the file is missing, not in FILES, or the expression names none", async () => {
    const missing = await extract({ file: "input" }, "extract-tests/never-uploaded.pdf");
    expect(missing.report.error).toMatchObject({ code: "extract.not_found", retryable: false });
    const elsewhere = await extract({ file: "input" }, "r2://another-bucket/a.pdf");
    expect(elsewhere.report.error).toMatchObject({ code: "extract.not_found" });
    expect((elsewhere.report.error as { message: string }).message).toContain("not in the FILES bucket");
    // An email that came without the attachment the workflow reads: no empty text reaches the next step.
    const none = await extract({ file: "input.attachments[0]" }, { attachments: [] });
    expect(none.report.error).toMatchObject({ code: "extract.no_file", retryable: false });
    expect((none.report.error as { message: string }).message).toContain("input.attachments[0]");
    expect(none.report.context.doc).toBeUndefined();
  });

  it("refuses a definition whose limits or chunking are out of range, with the path", async () => {
    const bad = async (config: Record<string, unknown>) =>
      api("/api/workflows", {
        method: "POST",
        json: { id: "extract-bad", name: "bad", nodes: [{ id: "read", type: "extract", config }], edges: [] },
      });
    const overlap = await expectError(
      await bad({ file: "input", output: "doc", chunk: { size: 200, overlap: 200 } }),
      422,
      "definition.config_invalid",
    );
    expect(JSON.stringify(overlap.error.details)).toContain("overlap");
    await expectError(
      await bad({ file: "input", output: "doc", maxBytes: 64 * 1024 * 1024 }),
      422,
      "definition.config_invalid",
    );
    await expectError(await bad({ file: "input", output: "doc", type: "xlsx" }), 422, "definition.config_invalid");
    await expectError(await bad({ file: "input(", output: "doc" }), 422, "definition.expression_invalid");
  });
});
