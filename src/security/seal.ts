import type { Json } from "../lib/json";
import { hasSealed, maxNesting, replaceSealed, type Sealed, sealedMarker } from "../lib/sealed-value";

export {
  hasSealed,
  isSealed,
  redact,
  redactedMarker,
  redactedValue,
  type Sealed,
  sealedId,
  sealedMarker,
} from "../lib/sealed-value";

import { type DataKeys, decodeBase64, encodeBase64, parseDataKeys } from "./data-keys";

/**
 * Sensitive values at rest: AES-256-GCM through Web Crypto, one fresh 96-bit IV per value, the
 * key id beside the ciphertext so any listed key opens what it sealed. A sealed value is what
 * run storage, checkpoints and blobs hold in place of the value; answers show the redaction
 * marker in its place unless an admin asks to reveal it.
 */
/** Bound into every tag: a sealed value of another format (or another product) does not open. */
const additionalData = new TextEncoder().encode("signalbox.sealed.v1");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SealError extends Error {}

export class Keyring {
  readonly current: string;
  private readonly raw: ReadonlyMap<string, Uint8Array>;
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(keys: DataKeys) {
    this.current = keys.current;
    this.raw = keys.keys;
  }

  has(kid: string): boolean {
    return this.raw.has(kid);
  }

  private key(kid: string): Promise<CryptoKey> {
    let key = this.imported.get(kid);
    if (!key) {
      const bytes = this.raw.get(kid);
      if (!bytes) return Promise.reject(new SealError(`no data key "${kid}" is listed in DATA_KEYS`));
      key = crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
      this.imported.set(kid, key);
    }
    return key;
  }

  /** The value sealed with the current key. */
  async seal(value: Json): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = encoder.encode(JSON.stringify(value));
    const cipher = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData },
      await this.key(this.current),
      plain,
    );
    return {
      [sealedMarker]: { kid: this.current, iv: encodeBase64(iv), ct: encodeBase64(new Uint8Array(cipher)) },
    };
  }

  /** The value a sealed one stands for; a SealError when its key is not listed or it was altered. */
  async open(sealed: Sealed): Promise<Json> {
    const { kid, iv, ct } = sealed[sealedMarker];
    const ivBytes = decodeBase64(iv);
    const ctBytes = decodeBase64(ct);
    if (ivBytes?.byteLength !== 12 || !ctBytes) throw new SealError("sealed value is malformed");
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: ivBytes, additionalData },
        await this.key(kid),
        ctBytes,
      );
    } catch (thrown) {
      if (thrown instanceof SealError) throw thrown;
      throw new SealError(`sealed value does not open with data key "${kid}" (altered, or sealed with another key)`);
    }
    return JSON.parse(decoder.decode(plain)) as Json;
  }
}

const rings = new Map<string, Keyring | { problem: string }>();

/** The keyring of an environment's DATA_KEYS (parsed and imported once per isolate), or what is wrong with it. */
export function keyringOf(env: { DATA_KEYS?: unknown }): Keyring | { problem: string } {
  const raw = typeof env.DATA_KEYS === "string" ? env.DATA_KEYS : "";
  let ring = rings.get(raw);
  if (!ring) {
    const parsed = parseDataKeys(env.DATA_KEYS);
    ring = parsed.ok ? new Keyring(parsed.keys) : { problem: parsed.problem };
    rings.set(raw, ring);
  }
  return ring;
}

/** Every sealed value inside `value` opened, and any sealed inside those; `known` supplies values already open (by ciphertext). */
export async function openAll<T>(
  value: T,
  ring: Keyring,
  known?: (sealed: Sealed) => Json | undefined,
  depth = 0,
): Promise<T> {
  if (!hasSealed(value)) return value;
  if (depth >= maxNesting) throw new SealError("sealed values nest too deep");
  const pending: Promise<void>[] = [];
  const opened = new Map<Sealed, Json>();
  replaceSealed(value, (sealed) => {
    const hit = known?.(sealed);
    if (hit !== undefined) opened.set(sealed, hit);
    else pending.push(ring.open(sealed).then((plain) => void opened.set(sealed, plain)));
    return null;
  });
  await Promise.all(pending);
  return openAll(replaceSealed(value, (sealed) => opened.get(sealed)) as T, ring, known, depth + 1);
}

/** Opens what `known` has open already; undefined when some sealed value inside is not known. */
export function openKnown<T>(value: T, known: (sealed: Sealed) => Json | undefined, depth = 0): T | undefined {
  if (!hasSealed(value)) return value;
  if (depth >= maxNesting) return undefined;
  let missing = false;
  const out = replaceSealed(value, (sealed) => {
    const hit = known(sealed);
    if (hit === undefined) missing = true;
    return hit;
  });
  return missing ? undefined : openKnown(out as T, known, depth + 1);
}
