/**
 * lib: small helpers with no Signalbox knowledge (JSON, hashing, durations, cron, blobs
 * references, ids). A leaf: it imports no other folder of src.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** JSON with object keys sorted, so equal values serialize (and hash) equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, function sortKeys(_key, inner: unknown) {
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
      return sorted;
    }
    return inner;
  });
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Converts evaluation results (JSONata sequences, undefined) into plain JSON values. */
export function toJson(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}
