import { describe, expect, it } from "vitest";
import type { Json } from "../../src/lib/json";
import { diffJson } from "../../src/lib/json-diff";

describe("diffJson", () => {
  it.each<{ name: string; before: Json; after: Json; changes: unknown[] }>([
    { name: "equal values", before: { a: [1, { b: 2 }] }, after: { a: [1, { b: 2 }] }, changes: [] },
    {
      name: "added, removed and replaced keys, sorted",
      before: { keep: 1, gone: "x", changed: 1 },
      after: { keep: 1, changed: 2, added: { n: 1 } },
      changes: [
        { op: "add", path: "/added", value: { n: 1 } },
        { op: "replace", path: "/changed", old: 1, value: 2 },
        { op: "remove", path: "/gone", old: "x" },
      ],
    },
    {
      name: "nested objects",
      before: { order: { total: 5, lines: [1, 2] } },
      after: { order: { total: 7, lines: [1, 2, 3] } },
      changes: [
        { op: "add", path: "/order/lines/2", value: 3 },
        { op: "replace", path: "/order/total", old: 5, value: 7 },
      ],
    },
    {
      name: "a shorter array, removed from the end",
      before: [1, 2, 3],
      after: [1],
      changes: [
        { op: "remove", path: "/2", old: 3 },
        { op: "remove", path: "/1", old: 2 },
      ],
    },
    {
      name: "a type change",
      before: { a: [1] },
      after: { a: { 0: 1 } },
      changes: [{ op: "replace", path: "/a", old: [1], value: { 0: 1 } }],
    },
    {
      name: "keys that need escaping",
      before: {},
      after: { "a/b": 1, "c~d": 2 },
      changes: [
        { op: "add", path: "/a~1b", value: 1 },
        { op: "add", path: "/c~0d", value: 2 },
      ],
    },
    {
      name: "null against a value",
      before: { a: null },
      after: { a: 0 },
      changes: [{ op: "replace", path: "/a", old: null, value: 0 }],
    },
  ])("$name", ({ before, after, changes }) => {
    expect(diffJson(before, after)).toEqual(changes);
  });
});
