import { Buffer } from "node:buffer";
import type { DocumentType } from "../lib/file-type";

/**
 * Reading each document type into text, through libraries that run in Workers without native
 * code: unpdf (Mozilla's pdf.js built for serverless runtimes), mammoth (DOCX), html-to-text.
 * Each is imported when first needed: pdf.js alone is over a megabyte of JavaScript, and an
 * isolate that never reads a PDF should not pay for evaluating it at startup.
 */

export interface ReadDocument {
  ok: true;
  text: string;
  pages?: number;
  /** PDFs: where each page starts in `text` (pages are joined with a blank line). */
  pageStarts?: number[];
  title?: string;
}

export type ReadFailure = {
  ok: false;
  reason: "unreadable" | "encrypted" | "too_many_pages";
  message: string;
  pages?: number;
};

const pageSeparator = "\n\n";

function describe(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

async function readPdf(bytes: Uint8Array, maxPages: number): Promise<ReadDocument | ReadFailure> {
  const { extractText, getDocumentProxy, getMeta } = await import("unpdf");
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes over (detaches) the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(bytes.slice());
  } catch (thrown) {
    // pdf.js names its errors; a password it cannot open is the one a user can act on.
    const name = thrown instanceof Error ? thrown.name : "";
    if (name === "PasswordException") {
      return { ok: false, reason: "encrypted", message: "the PDF is encrypted with a password" };
    }
    return { ok: false, reason: "unreadable", message: `the PDF cannot be read: ${describe(thrown)}` };
  }
  try {
    if (pdf.numPages > maxPages) {
      return {
        ok: false,
        reason: "too_many_pages",
        message: `the PDF has ${pdf.numPages} pages, over the limit of ${maxPages}`,
        pages: pdf.numPages,
      };
    }
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    const pageStarts: number[] = [];
    let offset = 0;
    for (const page of text) {
      pageStarts.push(offset);
      offset += page.length + pageSeparator.length;
    }
    const meta = await getMeta(pdf).catch(() => undefined);
    const info = meta?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === "string" && info.Title.trim() !== "" ? info.Title.trim() : undefined;
    return {
      ok: true,
      text: text.join(pageSeparator),
      pages: totalPages,
      pageStarts,
      ...(title ? { title } : {}),
    };
  } catch (thrown) {
    return { ok: false, reason: "unreadable", message: `the PDF's text cannot be read: ${describe(thrown)}` };
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

async function readDocx(bytes: Uint8Array): Promise<ReadDocument | ReadFailure> {
  try {
    // The Node build of mammoth reads `buffer`, its browser build `arrayBuffer`: the bundler picks one.
    const { default: mammoth } = await import("mammoth");
    const arrayBuffer = bytes.slice().buffer;
    const result = await mammoth.extractRawText({ buffer: Buffer.from(arrayBuffer), arrayBuffer });
    return { ok: true, text: result.value.replace(/\n{3,}/g, "\n\n").trim() };
  } catch (thrown) {
    return { ok: false, reason: "unreadable", message: `the Word document cannot be read: ${describe(thrown)}` };
  }
}

function decodeText(bytes: Uint8Array): string {
  // TextDecoder drops a UTF-8 byte order mark itself.
  return new TextDecoder("utf-8").decode(bytes);
}

async function readHtml(bytes: Uint8Array): Promise<ReadDocument> {
  const { convert } = await import("html-to-text");
  const html = decodeText(bytes);
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: "a", options: { ignoreHref: true } },
      { selector: "img", format: "skip" },
      { selector: "h1", options: { uppercase: false } },
      { selector: "h2", options: { uppercase: false } },
      { selector: "h3", options: { uppercase: false } },
      { selector: "table", format: "dataTable", options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  const title = match?.[1]?.trim();
  return { ok: true, text, ...(title ? { title } : {}) };
}

export async function readDocument(
  type: DocumentType,
  bytes: Uint8Array,
  limits: { maxPages: number },
): Promise<ReadDocument | ReadFailure> {
  switch (type) {
    case "pdf":
      return readPdf(bytes, limits.maxPages);
    case "docx":
      return readDocx(bytes);
    case "html":
      return readHtml(bytes);
    case "text":
      return { ok: true, text: decodeText(bytes) };
  }
}
