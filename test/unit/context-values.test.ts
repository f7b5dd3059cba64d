import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { blobMarker, byteLength, chainHash, isBlobRef, makeRef, storedValueSize } from "../../src/lib/blob-ref";
import { canonicalJson } from "../../src/lib/json";
import { byteSizeSetting, formatBytes, parseByteSize } from "../../src/lib/size";
import {
  BlobCache,
  contextLimits,
  contextSizeError,
  defaultInlineBytes,
  defaultMaxBytes,
  planOffload,
} from "../../src/run/context-store";

const hex = "a".repeat(64);

describe("byte sizes", () => {
  it("parses sizes with binary and decimal units", () => {
    expect(parseByteSize("64KiB")).toBe(65_536);
    expect(parseByteSize("10MiB")).toBe(10_485_760);
    expect(parseByteSize("5MB")).toBe(5_000_000);
    expect(parseByteSize("1.5 kib")).toBe(1_536);
    expect(parseByteSize("4096")).toBe(4_096);
    expect(parseByteSize("12 parsecs")).toBeUndefined();
    expect(parseByteSize("-1KiB")).toBeUndefined();
  });

  it("falls back to the default for unset or malformed settings, and caps the inline limit", () => {
    expect(byteSizeSetting(undefined, 7)).toBe(7);
    expect(byteSizeSetting("lots", 7)).toBe(7);
    expect(byteSizeSetting("0", 7)).toBe(7);
    expect(contextLimits({})).toEqual({ inlineBytes: defaultInlineBytes, maxBytes: defaultMaxBytes });
    expect(contextLimits({ CONTEXT_INLINE_LIMIT: "8KiB", CONTEXT_MAX_SIZE: "1MiB" })).toEqual({
      inlineBytes: 8_192,
      maxBytes: 1_048_576,
    });
    expect(contextLimits({ CONTEXT_INLINE_LIMIT: "50MiB" }).inlineBytes).toBe(1_048_576);
  });

  it("formats sizes for people", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(65_536)).toBe("64 KiB");
    expect(formatBytes(11_961_498)).toBe("11.41 MiB");
  });

  it("counts UTF-8 bytes, not characters", () => {
    expect(byteLength("abc")).toBe(3);
    expect(byteLength("é€")).toBe(5);
  });
});

describe("references", () => {
  it("recognizes exactly the reference shape", () => {
    const ref = makeRef(hex, 100, { a: 1 });
    expect(ref).toEqual({ [blobMarker]: `sha256:${hex}`, size: 100, type: "object" });
    expect(isBlobRef(ref)).toBe(true);
    expect(makeRef(hex, 3, [1]).type).toBe("array");
    expect(makeRef(hex, 3, "x").type).toBe("string");
    expect(isBlobRef({ ...ref, extra: true })).toBe(false);
    expect(isBlobRef({ ...ref, [blobMarker]: "sha256:short" })).toBe(false);
    expect(isBlobRef({ $ref: `sha256:${hex}`, size: 1, type: "object" })).toBe(false);
    expect(isBlobRef([ref])).toBe(false);
    expect(isBlobRef(null)).toBe(false);
  });

  it("counts a reference as its blob's size and anything else as its JSON", () => {
    expect(storedValueSize(makeRef(hex, 5_000_000, {}) as never)).toBe(5_000_000);
    expect(storedValueSize({ b: 1, a: "x" })).toBe('{"a":"x","b":1}'.length);
  });
});

describe("the hash chain", () => {
  it("hashes the previous hash and the canonical patch, independent of key order", () => {
    const v0 = chainHash(null, { input: { b: 2, a: 1 } });
    expect(v0).toBe(createHash("sha256").update('{"input":{"a":1,"b":2}}').digest("hex"));
    expect(chainHash(null, { input: { a: 1, b: 2 } })).toBe(v0);
    const v1 = chainHash(v0, { x: 1 });
    expect(v1).toBe(createHash("sha256").update(`${v0}{"x":1}`).digest("hex"));
    expect(chainHash(chainHash(null, { input: {} }), { x: 1 })).not.toBe(v1);
  });
});

describe("planOffload", () => {
  it("offloads values over the inline limit and keeps the rest inline", () => {
    const big = { text: "x".repeat(2_000) };
    const planned = planOffload({ big, small: 1 }, 1_000);
    expect(planned.map((entry) => [entry.key, entry.offload])).toEqual([
      ["big", true],
      ["small", false],
    ]);
    expect(planned[0]?.text).toBe(canonicalJson(big));
    expect(planned[0]?.size).toBe(canonicalJson(big).length);
  });

  it("always offloads a value shaped like a reference, so stored references are never user data", () => {
    const lookalike = makeRef(hex, 10, {}) as never;
    expect(planOffload({ lookalike }, 1_000_000)[0]?.offload).toBe(true);
  });

  it("offloads the largest inline values until the patch fits its row", () => {
    const chunk = "y".repeat(300_000);
    const planned = planOffload({ a: chunk, b: chunk, c: chunk, d: chunk, e: "z".repeat(400_000) }, 500_000);
    const offloaded = planned.filter((entry) => entry.offload).map((entry) => entry.key);
    const inline = planned.filter((entry) => !entry.offload).reduce((sum, entry) => sum + entry.size, 0);
    // The largest first (e), then one more of the equal rest: two are enough to fit.
    expect(offloaded).toContain("e");
    expect(offloaded).toHaveLength(2);
    expect(inline).toBeLessThanOrEqual(1024 * 1024);
  });
});

describe("contextSizeError", () => {
  const current = new Map([
    ["input", 100],
    ["doc", 6_000],
  ]);

  it("passes a patch that keeps the context under its limit, counting replaced keys once", () => {
    const planned = planOffload({ doc: "x".repeat(8_000) }, 1_000);
    expect(contextSizeError("n", current, planned, 9_000)).toBeUndefined();
  });

  it("names the node, the largest key and the sizes when over", () => {
    const planned = planOffload({ extra: "x".repeat(4_000), note: 1 }, 1_000);
    const error = contextSizeError("grow", current, planned, 9_000);
    expect(error).toMatchObject({
      code: "context.too_large",
      retryable: false,
      details: { nodeId: "grow", key: "extra", valueBytes: 4_002, contextBytes: 10_103, limitBytes: 9_000 },
    });
    expect(error?.message).toContain("grow");
    expect(error?.message).toContain("extra");
  });
});

describe("BlobCache", () => {
  it("drops the least recently used entries once over budget", () => {
    const cache = new BlobCache(100);
    cache.set("a", "A", 40);
    cache.set("b", "B", 40);
    expect(cache.get("a")).toBe("A");
    cache.set("c", "C", 40);
    expect(cache.has("b")).toBe(false);
    expect(cache.get("a")).toBe("A");
    expect(cache.get("c")).toBe("C");
    cache.set("huge", "H", 500);
    expect(cache.get("huge")).toBe("H");
  });
});
