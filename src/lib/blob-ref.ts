import { createHash } from "node:crypto";
import { canonicalJson, type Json, type JsonObject } from "./json";

/**
 * A context value kept in R2 instead of inline: what stored patches, snapshots, checkpoints and
 * the API hold in its place. The marker key is namespaced so it does not read as user data, and
 * a top-level value that happens to have exactly this shape is always offloaded (see
 * context-store.ts), so a stored value of this shape is always a reference.
 */
export interface BlobRef {
  "$signalbox.blob": string;
  size: number;
  /**
   * The JSON type of the value it stands for, or `bytes` for a file kept as it came (an email
   * attachment): its blob is the raw bytes, read as a file, never parsed as a context value.
   */
  type: "object" | "array" | "string" | "number" | "boolean" | "null" | "bytes";
}

export const blobMarker = "$signalbox.blob";
const refPattern = /^sha256:[0-9a-f]{64}$/;

export function isBlobRef(value: unknown): value is BlobRef {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 3) return false;
  const ref = value as Record<string, unknown>;
  return (
    typeof ref[blobMarker] === "string" &&
    refPattern.test(ref[blobMarker] as string) &&
    typeof ref.size === "number" &&
    typeof ref.type === "string"
  );
}

/** The hex SHA-256 a reference names. */
export function refHash(ref: BlobRef): string {
  return ref[blobMarker].slice("sha256:".length);
}

export function makeRef(hash: string, size: number, value: Json): BlobRef {
  return { [blobMarker]: `sha256:${hash}`, size, type: jsonType(value) } as BlobRef;
}

/** A reference as the JSON value that stands in the context in place of what it refers to. */
export function refJson(ref: BlobRef): JsonObject {
  return { [blobMarker]: ref[blobMarker], size: ref.size, type: ref.type };
}

export function jsonType(value: Json): Exclude<BlobRef["type"], "bytes"> {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value as "object" | "string" | "number" | "boolean";
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a serialized value: what the size limits count. */
export function byteLength(text: string): number {
  // Pure ASCII (the common case) needs no encoding pass.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point.
  return /^[\x00-\x7f]*$/.test(text) ? text.length : encoder.encode(text).byteLength;
}

/** Synchronous SHA-256 (node:crypto under nodejs_compat), hex. */
export function sha256HexSync(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The size a top-level context value counts for: a reference counts its blob's size. */
export function storedValueSize(value: Json): number {
  return isBlobRef(value) ? value.size : byteLength(canonicalJson(value) ?? "null");
}

/** Every reference among a stored context's (or patch's) top-level values. */
export function refsOf(context: JsonObject): BlobRef[] {
  const refs: BlobRef[] = [];
  for (const value of Object.values(context)) if (isBlobRef(value)) refs.push(value);
  return refs;
}

/**
 * File references (`type: "bytes"`, an email attachment's) anywhere inside a value: they sit in
 * the run's input, not at the top level, yet name blobs of the run all the same.
 */
export function fileRefsIn(value: Json, found: BlobRef[] = []): BlobRef[] {
  if (Array.isArray(value)) {
    for (const item of value) fileRefsIn(item, found);
  } else if (value !== null && typeof value === "object") {
    if (isBlobRef(value) && value.type === "bytes") found.push(value);
    else for (const item of Object.values(value)) fileRefsIn(item, found);
  }
  return found;
}

/** The context hash chain: version 0 hashes the initial context, each later one its predecessor and patch. */
export function chainHash(previous: string | null, patch: JsonObject): string {
  return sha256HexSync(`${previous ?? ""}${canonicalJson(patch)}`);
}
