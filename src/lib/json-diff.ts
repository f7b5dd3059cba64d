import type { Json } from "./json";

/** One difference between two JSON values, at a JSON Pointer (RFC 6901) path. */
export type JsonChange =
  | { op: "add"; path: string; value: Json }
  | { op: "remove"; path: string; old: Json }
  | { op: "replace"; path: string; old: Json; value: Json };

function pointer(base: string, key: string | number): string {
  return `${base}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The changes that turn `before` into `after`: objects are compared key by key (sorted),
 * arrays index by index with a longer or shorter tail as adds or removes, anything else whole.
 */
export function diffJson(before: Json, after: Json, path = ""): JsonChange[] {
  if (isObject(before) && isObject(after)) {
    const changes: JsonChange[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const at = pointer(path, key);
      const old = before[key];
      const value = after[key];
      if (old === undefined && value !== undefined) changes.push({ op: "add", path: at, value });
      else if (value === undefined && old !== undefined) changes.push({ op: "remove", path: at, old });
      else if (old !== undefined && value !== undefined) changes.push(...diffJson(old, value, at));
    }
    return changes;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: JsonChange[] = [];
    const shared = Math.min(before.length, after.length);
    for (let index = 0; index < shared; index++) {
      changes.push(...diffJson(before[index] as Json, after[index] as Json, pointer(path, index)));
    }
    for (let index = shared; index < after.length; index++) {
      changes.push({ op: "add", path: pointer(path, index), value: after[index] as Json });
    }
    // Removed from the end backwards, so applying them in order keeps the indexes right.
    for (let index = before.length - 1; index >= shared; index--) {
      changes.push({ op: "remove", path: pointer(path, index), old: before[index] as Json });
    }
    return changes;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ op: "replace", path, old: before, value: after }];
}
