import { describe, expect, it } from "vitest";
import { sensitivePolicyOf } from "../../src/definition/sensitive-checks";
import type { Json } from "../../src/lib/json";
import { parseDataKeys } from "../../src/security/data-keys";
import {
  isSealed,
  Keyring,
  keyringOf,
  openAll,
  openKnown,
  redact,
  SealError,
  type Sealed,
  sealedMarker,
} from "../../src/security/seal";
import { sealPatch } from "../../src/security/sensitive";

const k1 = Buffer.alloc(32, 1).toString("base64");
const k2 = Buffer.alloc(32, 2).toString("base64");
const secret = "CANARY-4111-1111-1111-1111";

function ring(current: string, keys: Record<string, string>): Keyring {
  const parsed = parseDataKeys(JSON.stringify({ current, keys }));
  if (!parsed.ok) throw new Error(parsed.problem);
  return new Keyring(parsed.keys);
}

describe("DATA_KEYS", () => {
  it.each([
    [undefined, /DATA_KEYS is not set/],
    ["", /DATA_KEYS is not set/],
    ["k1:abc", /not JSON/],
    [JSON.stringify({ keys: { k1 } }), /must be \{"current"/],
    [JSON.stringify({ current: "k1", keys: { k1: "c2hvcnQ=" } }), /key "k1" must be the base64 of exactly 32/],
    [JSON.stringify({ current: "k1", keys: { k1: "not base64!" } }), /key "k1" must be the base64/],
    [JSON.stringify({ current: "k3", keys: { k1 } }), /current key "k3" is not among its keys/],
    [JSON.stringify({ current: "k 1", keys: { "k 1": k1 } }), /key id "k 1" must be/],
  ])("refuses %s", (raw, problem) => {
    const parsed = parseDataKeys(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problem).toMatch(problem);
      // The problem never repeats key material.
      expect(parsed.problem).not.toContain(k1);
    }
  });

  it("reads the current key id and every key", () => {
    const parsed = parseDataKeys(JSON.stringify({ current: "k2", keys: { k1, k2 } }));
    expect(parsed.ok && parsed.keys.current).toBe("k2");
    expect(parsed.ok && [...parsed.keys.keys.keys()]).toEqual(["k1", "k2"]);
  });

  it("keyringOf says what is wrong instead of a keyring", () => {
    expect(keyringOf({})).toEqual({ problem: "DATA_KEYS is not set" });
    expect(keyringOf({ DATA_KEYS: JSON.stringify({ current: "k1", keys: { k1 } }) })).toBeInstanceOf(Keyring);
  });
});

describe("sealing", () => {
  it("seals with the current key, a fresh IV each time, and opens to the value", async () => {
    const keys = ring("k1", { k1 });
    const a = await keys.seal({ number: secret });
    const b = await keys.seal({ number: secret });
    expect(isSealed(a)).toBe(true);
    expect(a[sealedMarker].kid).toBe("k1");
    expect(a[sealedMarker].iv).not.toBe(b[sealedMarker].iv);
    expect(JSON.stringify(a)).not.toContain(secret);
    expect(await keys.open(a)).toEqual({ number: secret });
  });

  it("after a rotation, old values open and new ones are sealed with the new key", async () => {
    const before = ring("k1", { k1 });
    const old = await before.seal(secret);
    const after = ring("k2", { k1, k2 });
    expect(await after.open(old)).toBe(secret);
    const fresh = await after.seal(secret);
    expect(fresh[sealedMarker].kid).toBe("k2");
    // A key that is no longer listed cannot open what it sealed.
    await expect(ring("k2", { k2 }).open(old)).rejects.toThrow(/no data key "k1"/);
  });

  it("detects an altered ciphertext, IV or key id", async () => {
    const keys = ring("k1", { k1, k2 });
    const sealed = await keys.seal(secret);
    const inner = sealed[sealedMarker];
    const flip = (text: string) => {
      const bytes = Buffer.from(text, "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString("base64");
    };
    for (const altered of [
      { ...inner, ct: flip(inner.ct) },
      { ...inner, iv: flip(inner.iv) },
      { ...inner, kid: "k2" },
    ]) {
      await expect(keys.open({ [sealedMarker]: altered })).rejects.toBeInstanceOf(SealError);
    }
  });

  it("redacts and opens sealed values wherever they sit", async () => {
    const keys = ring("k1", { k1 });
    const sealed = await keys.seal(secret);
    const doc = { a: [1, { card: sealed }], b: "plain" };
    expect(redact(doc)).toEqual({ a: [1, { card: { "$signalbox.redacted": true } }], b: "plain" });
    expect(await openAll(doc, keys)).toEqual({ a: [1, { card: secret }], b: "plain" });
    expect(openKnown(doc, () => undefined)).toBeUndefined();
    expect(openKnown(doc, (value: Sealed) => (value === sealed ? "known" : undefined))).toEqual({
      a: [1, { card: "known" }],
      b: "plain",
    });
    const untouched = { b: "plain" };
    expect(redact(untouched)).toBe(untouched);
  });

  it("seals a patch's sensitive keys and input fields, through arrays, and nothing else", async () => {
    const keys = ring("k1", { k1 });
    const policy = sensitivePolicyOf({ context: ["ssn"], input: ["card.number", "people.ssn"] }, [
      { id: "fetch", sensitive: "output", writes: ["profile"] },
      { id: "other", writes: ["plain"] },
    ]);
    if (!policy) throw new Error("expected a policy");
    const remembered: unknown[] = [];
    const stored = await sealPatch(
      {
        input: { card: { number: secret, brand: "visa" }, people: [{ ssn: "1" }, { name: "x" }], other: 1 },
        ssn: "123-45-6789",
        profile: { deep: secret },
        plain: "visible",
      },
      policy,
      keys,
      (_sealed, plain) => remembered.push(plain),
    );
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain("123-45-6789");
    expect(stored.plain).toBe("visible");
    expect(redact(stored)).toEqual({
      input: {
        card: { number: { "$signalbox.redacted": true }, brand: "visa" },
        people: [{ ssn: { "$signalbox.redacted": true } }, { name: "x" }],
        other: 1,
      },
      ssn: { "$signalbox.redacted": true },
      profile: { "$signalbox.redacted": true },
      plain: "visible",
    });
    expect(remembered).toHaveLength(4);
    expect(await openAll(stored, keys)).toEqual({
      input: { card: { number: secret, brand: "visa" }, people: [{ ssn: "1" }, { name: "x" }], other: 1 },
      ssn: "123-45-6789",
      profile: { deep: secret },
      plain: "visible",
    });
    // Sealing what is sealed already (a replay's stored context) changes nothing.
    expect(await sealPatch(stored, policy, keys)).toEqual(stored);
  });

  it("a child's policy (all) seals every key but the run's own, input whole", async () => {
    const keys = ring("k1", { k1 });
    const stored = await sealPatch(
      { input: { card: secret }, made: secret, trigger: { type: "parent" }, run: { id: "r" } },
      { keys: new Set(), inputPaths: [], all: true },
      keys,
    );
    expect(redact(stored)).toEqual({
      input: { "$signalbox.redacted": true },
      made: { "$signalbox.redacted": true },
      trigger: { type: "parent" },
      run: { id: "r" },
    });
    // A sealed value sealed again (a marked key holding a child's sealed output) opens all the way.
    const twice = await keys.seal([await keys.seal(secret)] as unknown as Json);
    expect(await openAll({ list: twice }, keys)).toEqual({ list: [secret] });
  });
});
