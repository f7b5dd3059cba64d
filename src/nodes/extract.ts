import { z } from "zod";
import type { NodeOutcome } from "../engine/outcome";
import { type ErrorCode, errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { type BlobRef, isBlobRef, refHash } from "../lib/blob-ref";
import { documentTypes, sniffDocument } from "../lib/file-type";
import type { JsonObject } from "../lib/json";
import { chunkText } from "../lib/text-chunks";
import { readDocument } from "./extract-formats";
import { defineNode, type FileLocation, type FileRead } from "./types";

const mib = 1024 * 1024;

const config = z.strictObject({
  /** JSONata: an r2 trigger's input, an email attachment, `r2://bucket/key`, a key of FILES. */
  file: z.string().min(1),
  output: z.string().min(1),
  /** Read the file as this type instead of telling it from its bytes, content type and name. */
  type: z.enum(documentTypes).optional(),
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(32 * mib)
    .default(10 * mib),
  maxPages: z.number().int().min(1).max(2_000).default(200),
  /** Characters per chunk and how many each chunk repeats of the one before. */
  chunk: z
    .strictObject({
      size: z.number().int().min(100).max(100_000),
      overlap: z.number().int().min(0).default(0),
    })
    .refine((chunk) => chunk.overlap < chunk.size, { message: "overlap must be smaller than size", path: ["overlap"] })
    .optional(),
});

interface Target {
  location: FileLocation;
  contentType?: string | undefined;
  filename?: string | undefined;
  /** How the file is named in messages and in the output's metadata. */
  name: string;
}

function fail(code: ErrorCode, message: string, options: { retryable?: boolean; details?: unknown } = {}): NodeOutcome {
  return { type: "failure", error: errorData(code, `extract: ${message}`, options) };
}

function fromString(text: string): FileLocation | undefined {
  const match = /^r2:\/\/([^/]+)\/(.+)$/.exec(text);
  if (match?.[1] && match[2]) return { bucket: match[1], key: match[2] };
  if (text.startsWith("r2://") || text.trim() === "") return undefined;
  return { key: text };
}

function optionalText(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function blobLocation(ref: BlobRef): FileLocation {
  return ref.type === "bytes" ? { blob: refHash(ref), raw: true } : { blob: refHash(ref) };
}

/** What `file` evaluated to, as a place to read from; undefined when it names no file. */
export function fileTarget(value: unknown): Target | undefined {
  if (typeof value === "string") {
    const location = fromString(value);
    return location ? { location, name: value } : undefined;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  if (isBlobRef(value)) return { location: blobLocation(value), name: value["$signalbox.blob"] };
  const record = value as Record<string, unknown>;
  const hints = {
    ...(optionalText(record.contentType) ? { contentType: optionalText(record.contentType) } : {}),
    ...(optionalText(record.filename) ? { filename: optionalText(record.filename) } : {}),
  };
  // An email attachment carries its file as a blob reference; its filename and type are hints.
  if (isBlobRef(record.ref))
    return { location: blobLocation(record.ref), name: record.ref["$signalbox.blob"], ...hints };
  const ref = optionalText(record.ref);
  const key = optionalText(record.key);
  const bucket = optionalText(record.bucket);
  const location = ref ? fromString(ref) : key ? { key, ...(bucket ? { bucket } : {}) } : undefined;
  if (!location) return undefined;
  return { location, name: ref ?? (bucket ? `r2://${bucket}/${key}` : (key as string)), ...hints };
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `a list of ${value.length} (pick one file)`;
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

export const extractNode = defineNode({
  type: "extract",
  kind: "io",
  // Parsing a large PDF is work worth spreading over Workers when several are ready at once.
  dispatch: "queue",
  config,
  defaultTimeoutMs: 60_000,
  // Only a failed read from storage is retryable; every other failure is the file's own.
  defaultMaxAttempts: 3,
  expressions: (c) => [{ path: ["file"], source: c.file }],
  writes: (c) => [c.output],
  async execute(c, node) {
    const value = await evaluate(c.file, node.context);
    const target = fileTarget(value);
    if (!target) {
      return fail("extract.no_file", `\`file\` (${c.file}) names no file: it gave ${describeValue(value)}`);
    }
    if (!node.ports.files) return fail("extract.read_failed", "no file storage in this runtime");
    let read: FileRead;
    try {
      read = await node.ports.files.read(target.location, c.maxBytes);
    } catch (thrown) {
      return fail("extract.read_failed", `reading ${target.name} failed: ${String(thrown)}`, { retryable: true });
    }
    if (!read.ok) {
      if (read.reason === "too_large") {
        return fail("extract.too_large", `${target.name} is ${read.size} bytes, over maxBytes ${c.maxBytes}`, {
          details: { bytes: read.size, maxBytes: c.maxBytes },
        });
      }
      const why =
        read.reason === "unknown_bucket" ? "is not in the FILES bucket, the one extract reads" : "does not exist";
      return fail("extract.not_found", `${target.name} ${why}`);
    }
    const contentType = target.contentType ?? read.contentType;
    const sniffed = c.type
      ? ({ ok: true, type: c.type } as const)
      : sniffDocument(read.bytes, {
          ...(contentType ? { contentType } : {}),
          ...(target.filename ? { filename: target.filename } : {}),
        });
    if (!sniffed.ok) {
      const code = sniffed.reason === "encrypted" ? "extract.encrypted" : "extract.unsupported_type";
      return fail(code, `${target.name} is ${sniffed.what}; extract reads PDF, DOCX, HTML and plain text`, {
        details: { contentType: contentType ?? null },
      });
    }
    const document = await readDocument(sniffed.type, read.bytes, { maxPages: c.maxPages });
    if (!document.ok) {
      if (document.reason === "too_many_pages") {
        return fail("extract.too_large", `${target.name}: ${document.message}`, {
          details: { pages: document.pages ?? null, maxPages: c.maxPages },
        });
      }
      const code = document.reason === "encrypted" ? "extract.encrypted" : "extract.unreadable";
      return fail(code, `${target.name}: ${document.message}`, { details: { type: sniffed.type } });
    }
    if (document.text.trim() === "") {
      const scanned = sniffed.type === "pdf" ? ": a scanned PDF has no text layer and needs OCR first" : "";
      return fail("extract.no_text", `${target.name} holds no text${scanned}`, {
        details: { type: sniffed.type, pages: document.pages ?? null },
      });
    }
    const metadata: JsonObject = {
      type: sniffed.type,
      contentType: contentType ?? null,
      bytes: read.size,
      source: target.name,
      ...(target.filename ? { filename: target.filename } : {}),
      ...(document.title ? { title: document.title } : {}),
    };
    const result: JsonObject = {
      text: document.text,
      ...(document.pages !== undefined ? { pages: document.pages } : {}),
      metadata,
    };
    if (c.chunk) {
      const chunks = chunkText(document.text, {
        size: c.chunk.size,
        overlap: c.chunk.overlap,
        ...(document.pageStarts ? { pageStarts: document.pageStarts } : {}),
      });
      result.chunks = chunks.map((chunk) => ({ ...chunk }));
    }
    return { type: "success", output: { [c.output]: result } };
  },
});
