import { describe, expect, it } from "vitest";
import { readDocument } from "../../src/nodes/extract-formats";
import { corruptPdf, docx, imageOnlyPdf, textPdf } from "../support/documents";

describe("readDocument", () => {
  it("reads a PDF's text layer page by page, with its page count, page offsets and title", async () => {
    const pdf = textPdf([["Invoice 42", "Total: 120.00 EUR"], ["Page two (terms)"]], { title: "Invoice 42" });
    const read = await readDocument("pdf", pdf, { maxPages: 10 });
    expect(read).toMatchObject({ ok: true, pages: 2, title: "Invoice 42" });
    if (!read.ok) return;
    expect(read.text).toContain("Invoice 42");
    expect(read.text).toContain("Total: 120.00 EUR");
    expect(read.text).toContain("Page two (terms)");
    expect(read.pageStarts?.[0]).toBe(0);
    expect(read.text.slice(read.pageStarts?.[1])).toMatch(/^Page two/);
  });

  it("says which PDF is encrypted, which is corrupt, and which has too many pages", async () => {
    expect(await readDocument("pdf", textPdf([["secret"]], { encrypt: true }), { maxPages: 10 })).toMatchObject({
      ok: false,
      reason: "encrypted",
    });
    expect(await readDocument("pdf", corruptPdf(), { maxPages: 10 })).toMatchObject({
      ok: false,
      reason: "unreadable",
    });
    expect(await readDocument("pdf", textPdf([["a"], ["b"], ["c"]]), { maxPages: 2 })).toMatchObject({
      ok: false,
      reason: "too_many_pages",
      pages: 3,
    });
  });

  it("finds no text in an image-only PDF", async () => {
    expect(await readDocument("pdf", imageOnlyPdf(), { maxPages: 10 })).toMatchObject({ ok: true, pages: 1, text: "" });
  });

  it("reads a Word document's paragraphs", async () => {
    const read = await readDocument("docx", await docx(["First paragraph.", "Second & last."], "Report"), {
      maxPages: 10,
    });
    expect(read).toEqual({ ok: true, text: "Report\n\nFirst paragraph.\n\nSecond & last." });
  });

  it("turns HTML into text without markup, scripts or link targets, and keeps the title", async () => {
    const html =
      "<!doctype html><html><head><title>Quarterly note</title><style>p{}</style></head><body><h1>Results</h1><p>Revenue <b>grew</b>.</p><script>alert(1)</script><a href='https://x.test'>more</a></body></html>";
    const read = await readDocument("html", new TextEncoder().encode(html), { maxPages: 10 });
    expect(read).toMatchObject({ ok: true, title: "Quarterly note" });
    if (!read.ok) return;
    expect(read.text).toContain("Results");
    expect(read.text).toContain("Revenue grew.");
    expect(read.text).not.toMatch(/alert|https:|<|p\{\}/);
  });
});
