/**
 * What kind of document a file is, for the extract node. The bytes decide where they can (a
 * PDF or a ZIP says so in its first bytes); the declared content type and the file name decide
 * between formats the bytes do not tell apart (HTML and plain text).
 */

export const documentTypes = ["pdf", "docx", "html", "text"] as const;
export type DocumentType = (typeof documentTypes)[number];

export type Sniffed =
  | { ok: true; type: DocumentType }
  /** `encrypted`: an OLE container where a DOCX is declared, which is how Word stores an encrypted DOCX. */
  | { ok: false; reason: "unsupported" | "encrypted"; what: string };

const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  return signature.every((byte, index) => bytes[at + index] === byte);
}

/** Whether the ASCII `needle` occurs in the bytes: ZIP entry names are stored uncompressed. */
function containsAscii(bytes: Uint8Array, needle: string): boolean {
  const first = needle.charCodeAt(0);
  outer: for (let index = bytes.indexOf(first); index !== -1; index = bytes.indexOf(first, index + 1)) {
    for (let offset = 1; offset < needle.length; offset += 1) {
      if (bytes[index + offset] !== needle.charCodeAt(offset)) continue outer;
    }
    return true;
  }
  return false;
}

const binarySignatures: { what: string; signature: number[]; at?: number }[] = [
  { what: "a PNG image", signature: [0x89, 0x50, 0x4e, 0x47] },
  { what: "a JPEG image", signature: [0xff, 0xd8, 0xff] },
  { what: "a GIF image", signature: [0x47, 0x49, 0x46, 0x38] },
  { what: "a WebP image", signature: [0x57, 0x45, 0x42, 0x50], at: 8 },
  { what: "a gzip archive", signature: [0x1f, 0x8b] },
];

function extensionOf(filename: string | undefined): string | undefined {
  const match = filename ? /\.([A-Za-z0-9]+)$/.exec(filename) : null;
  return match?.[1]?.toLowerCase();
}

function baseType(contentType: string | undefined): string | undefined {
  return contentType?.split(";")[0]?.trim().toLowerCase() || undefined;
}

/** Text is what decodes as UTF-8 without control bytes other than whitespace in its first 4 KiB. */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 4096);
  for (const byte of head) if (byte < 0x09 || (byte > 0x0d && byte < 0x20 && byte !== 0x1b)) return false;
  try {
    // A multi-byte character cut at 4 KiB is not an error: decode in streaming mode.
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 1024)).trimStart().toLowerCase();
  return head.startsWith("<!doctype html") || head.startsWith("<html");
}

export function sniffDocument(bytes: Uint8Array, hints: { contentType?: string; filename?: string }): Sniffed {
  const declared = baseType(hints.contentType);
  const extension = extensionOf(hints.filename);
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { ok: true, type: "pdf" };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    if (containsAscii(bytes, "word/document.xml")) return { ok: true, type: "docx" };
    return { ok: false, reason: "unsupported", what: "a ZIP archive that is not a Word document" };
  }
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    if (declared === docxType || extension === "docx") {
      return { ok: false, reason: "encrypted", what: "a password-protected Word document" };
    }
    return { ok: false, reason: "unsupported", what: "an OLE compound file (a legacy Office .doc, .xls or .ppt)" };
  }
  for (const { what, signature, at } of binarySignatures) {
    if (startsWith(bytes, signature, at)) return { ok: false, reason: "unsupported", what };
  }
  if (!looksLikeText(bytes)) return { ok: false, reason: "unsupported", what: "binary data of an unknown kind" };
  if (declared === "text/html" || declared === "application/xhtml+xml") return { ok: true, type: "html" };
  if (extension === "html" || extension === "htm" || extension === "xhtml") return { ok: true, type: "html" };
  if (declared?.startsWith("text/") || declared === "application/json") return { ok: true, type: "text" };
  return { ok: true, type: looksLikeHtml(bytes) ? "html" : "text" };
}
