import { describe, expect, it } from "vitest";
import { sniffDocument } from "../../src/lib/file-type";
import { corruptPdf, docx, imageOnlyPdf, plainZip, pngBytes, textPdf } from "../support/documents";

const text = (value: string) => new TextEncoder().encode(value);

describe("sniffDocument", () => {
  it("tells PDFs and Word documents by their bytes, whatever they are called", async () => {
    expect(sniffDocument(textPdf([["hi"]]), { filename: "a.txt", contentType: "text/plain" })).toEqual({
      ok: true,
      type: "pdf",
    });
    expect(sniffDocument(imageOnlyPdf(), {})).toEqual({ ok: true, type: "pdf" });
    expect(sniffDocument(corruptPdf(), {})).toEqual({ ok: true, type: "pdf" });
    expect(sniffDocument(await docx(["hello"]), { contentType: "application/octet-stream" })).toEqual({
      ok: true,
      type: "docx",
    });
  });

  it("refuses other archives, images and unknown binary data as unsupported", async () => {
    expect(sniffDocument(await plainZip(), { filename: "a.docx" })).toMatchObject({ ok: false, reason: "unsupported" });
    expect(sniffDocument(pngBytes(), { contentType: "image/png" })).toMatchObject({
      ok: false,
      reason: "unsupported",
      what: "a PNG image",
    });
    expect(sniffDocument(Uint8Array.from([0, 1, 2, 3, 250, 251]), {})).toMatchObject({
      ok: false,
      reason: "unsupported",
    });
  });

  it("reads an OLE container declared as DOCX as an encrypted Word document, otherwise as a legacy format", () => {
    const ole = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
    expect(sniffDocument(ole, { filename: "contract.docx" })).toMatchObject({ ok: false, reason: "encrypted" });
    expect(sniffDocument(ole, { filename: "contract.doc" })).toMatchObject({ ok: false, reason: "unsupported" });
  });

  it("tells HTML from plain text by content type, then name, then a doctype", () => {
    expect(sniffDocument(text("<p>hi</p>"), { contentType: "text/html; charset=utf-8" })).toEqual({
      ok: true,
      type: "html",
    });
    expect(sniffDocument(text("<p>hi</p>"), { filename: "page.HTM" })).toEqual({ ok: true, type: "html" });
    expect(sniffDocument(text("<p>hi</p>"), { contentType: "text/plain" })).toEqual({ ok: true, type: "text" });
    expect(sniffDocument(text("  <!DOCTYPE html><html></html>"), {})).toEqual({ ok: true, type: "html" });
    expect(sniffDocument(text("Grüße, plain text\r\n"), {})).toEqual({ ok: true, type: "text" });
  });
});
