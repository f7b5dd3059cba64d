import { type ErrorData, errorData, fail } from "../errors";
import {
  type BlobRef,
  byteLength,
  isBlobRef,
  makeRef,
  refHash,
  refJson,
  sha256HexSync,
  storedValueSize,
} from "../lib/blob-ref";
import { canonicalJson, deepFreeze, type Json, type JsonObject } from "../lib/json";
import { byteSizeSetting, formatBytes } from "../lib/size";
import { getBlob, putBlob } from "../store/blobs";

/**
 * Large context values live in R2; the run's SQLite, its checkpoints and the API hold references
 * (lib/blob-ref.ts). This module decides what is offloaded, enforces the run's size limit, and
 * resolves references back into values. `offloadOutput` and `resolveContext` need only the
 * bucket and the run id, so code outside the run's object (a queue consumer) calls them too.
 */

export interface ContextLimits {
  /** A top-level value whose serialized JSON is larger goes to R2. */
  inlineBytes: number;
  /** The most a run's context may hold, summed over its top-level values' serialized sizes. */
  maxBytes: number;
}

export const defaultInlineBytes = 64 * 1024;
export const defaultMaxBytes = 10 * 1024 * 1024;
/** Inline values and whole patches stay far below DO SQLite's 2 MB per value. */
const maxInlineBytes = 1024 * 1024;
const patchBudgetBytes = 1024 * 1024;

export function contextLimits(env: { CONTEXT_INLINE_LIMIT?: unknown; CONTEXT_MAX_SIZE?: unknown }): ContextLimits {
  return {
    inlineBytes: Math.min(byteSizeSetting(env.CONTEXT_INLINE_LIMIT, defaultInlineBytes), maxInlineBytes),
    maxBytes: byteSizeSetting(env.CONTEXT_MAX_SIZE, defaultMaxBytes),
  };
}

/** One top-level value of a patch, serialized once: for its size, its hash and its blob. */
export interface PlannedValue {
  key: string;
  value: Json;
  text: string;
  size: number;
  offload: boolean;
}

/**
 * Which values of a patch go to R2: those above the inline limit, any value shaped like a
 * reference (so a stored reference is never user data), and then the largest of the rest until
 * the patch itself fits its row.
 */
export function planOffload(output: JsonObject, inlineBytes: number): PlannedValue[] {
  const planned = Object.entries(output).map(([key, value]) => {
    const text = canonicalJson(value) ?? "null";
    const size = byteLength(text);
    return { key, value, text, size, offload: size > inlineBytes || isBlobRef(value) };
  });
  let inline = planned.reduce((sum, entry) => sum + (entry.offload ? 0 : entry.size), 0);
  for (const entry of [...planned].sort((a, b) => b.size - a.size)) {
    if (inline <= patchBudgetBytes) break;
    if (entry.offload) continue;
    entry.offload = true;
    inline -= entry.size;
  }
  return planned;
}

/** The run's context after the patch would be over its limit: the step's error, or undefined. */
export function contextSizeError(
  nodeId: string | null,
  current: ReadonlyMap<string, number>,
  planned: readonly PlannedValue[],
  maxBytes: number,
): ErrorData | undefined {
  let total = 0;
  for (const size of current.values()) total += size;
  for (const entry of planned) total += entry.size - (current.get(entry.key) ?? 0);
  if (total <= maxBytes) return undefined;
  const largest = [...planned].sort((a, b) => b.size - a.size)[0];
  const who = nodeId ? `${nodeId} would grow` : "this would grow";
  return errorData(
    "context.too_large",
    `${who} the run's context to ${formatBytes(total)}, over its limit of ${formatBytes(maxBytes)}` +
      (largest ? ` (largest value: ${largest.key}, ${formatBytes(largest.size)})` : ""),
    {
      retryable: false,
      details: {
        nodeId,
        key: largest?.key ?? null,
        valueBytes: largest?.size ?? 0,
        contextBytes: total,
        limitBytes: maxBytes,
      },
    },
  );
}

/** Parsed blobs by hash, least recently used dropped first once over the byte budget. */
export class BlobCache {
  private readonly entries = new Map<string, { value: Json; size: number }>();
  private bytes = 0;
  private readonly budget: number;

  constructor(budgetBytes = 32 * 1024 * 1024) {
    this.budget = budgetBytes;
  }

  get(hash: string): Json | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return entry.value;
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  set(hash: string, value: Json, size: number): void {
    if (this.entries.has(hash)) return;
    this.entries.set(hash, { value, size });
    this.bytes += size;
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.budget || key === hash) break;
      this.entries.delete(key);
      this.bytes -= entry.size;
    }
  }
}

export interface OffloadInput {
  bucket: R2Bucket;
  runId: string;
  output: JsonObject;
  limits: ContextLimits;
  nodeId?: string | null;
  /** Sizes of the context's current top-level values; when given, the run's limit is enforced. */
  sizes?: ReadonlyMap<string, number>;
  /** Hashes the run already holds in R2: no `head` or `put` for them. */
  known?: Set<string>;
  /** Receives the offloaded values, so reading them back costs no R2 get. */
  cache?: BlobCache;
}

export type OffloadResult =
  | { ok: true; stored: JsonObject; sizes: Map<string, number>; written: number }
  | { ok: false; error: ErrorData };

/** A node's output (or a run's initial context) as it is stored: large values in R2, references in their place. */
export async function offloadOutput(input: OffloadInput): Promise<OffloadResult> {
  const planned = planOffload(input.output, input.limits.inlineBytes);
  if (input.sizes) {
    const error = contextSizeError(input.nodeId ?? null, input.sizes, planned, input.limits.maxBytes);
    if (error) return { ok: false, error };
  }
  const stored: JsonObject = {};
  const sizes = new Map<string, number>();
  let written = 0;
  for (const entry of planned) {
    sizes.set(entry.key, entry.size);
    if (!entry.offload) {
      stored[entry.key] = entry.value;
      continue;
    }
    const hash = sha256HexSync(entry.text);
    if (!input.known?.has(hash)) {
      if (await putBlob(input.bucket, input.runId, hash, entry.text)) written += 1;
      input.known?.add(hash);
    }
    input.cache?.set(hash, entry.value, entry.size);
    stored[entry.key] = refJson(makeRef(hash, entry.size, entry.value));
  }
  return { ok: true, stored, sizes, written };
}

/** One reference's value: from the cache, else from R2 (and then cached). */
export async function resolveRef(bucket: R2Bucket, runId: string, ref: BlobRef, cache?: BlobCache): Promise<Json> {
  const hash = refHash(ref);
  const cached = cache?.get(hash);
  if (cached !== undefined) return cached;
  const text = await getBlob(bucket, runId, hash);
  if (text === undefined) {
    fail("context.unavailable", `context value sha256:${hash} is missing from the run's storage`, { retryable: true });
  }
  const value = deepFreeze(JSON.parse(text) as Json);
  cache?.set(hash, value, ref.size);
  return value;
}

/** A stored context (or patch) with every top-level reference replaced by its value. */
export async function resolveContext(
  bucket: R2Bucket,
  runId: string,
  context: JsonObject,
  cache?: BlobCache,
): Promise<JsonObject> {
  const resolved: JsonObject = { ...context };
  await Promise.all(
    Object.entries(context).map(async ([key, value]) => {
      if (isBlobRef(value)) resolved[key] = await resolveRef(bucket, runId, value, cache);
    }),
  );
  return resolved;
}

/** The size each top-level value counts for (references count their blob). */
export function valueSizes(context: JsonObject): Map<string, number> {
  return new Map(Object.entries(context).map(([key, value]) => [key, storedValueSize(value)]));
}
