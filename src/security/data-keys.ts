/**
 * The keys sensitive values are sealed with: the `DATA_KEYS` Worker secret, JSON of the form
 * `{"current":"k2","keys":{"k1":"<base64 of 32 bytes>","k2":"<base64 of 32 bytes>"}}`. New values
 * are sealed with `current`; a value sealed with any listed key id still opens, so a rotation
 * adds a key, makes it current and keeps the old ones listed (docs/security.md#sensitive-data).
 */

export const dataKeysSecret = "DATA_KEYS";
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

export interface DataKeys {
  current: string;
  /** Raw 32-byte AES-256 keys by key id. */
  keys: ReadonlyMap<string, Uint8Array>;
}

export type DataKeysResult = { ok: true; keys: DataKeys } | { ok: false; problem: string };

/** Reads the secret's text; `problem` says what is wrong without echoing any key material. */
export function parseDataKeys(raw: unknown): DataKeysResult {
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, problem: `${dataKeysSecret} is not set` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, problem: `${dataKeysSecret} is not JSON` };
  }
  if (!isRecord(parsed) || typeof parsed.current !== "string" || !isRecord(parsed.keys)) {
    return {
      ok: false,
      problem: `${dataKeysSecret} must be {"current": "<key id>", "keys": {"<key id>": "<base64>"}}`,
    };
  }
  const keys = new Map<string, Uint8Array>();
  for (const [id, value] of Object.entries(parsed.keys)) {
    if (!keyIdPattern.test(id)) {
      return {
        ok: false,
        problem: `${dataKeysSecret}: key id "${id.slice(0, 40)}" must be 1 to 32 of A-Z a-z 0-9 _ -`,
      };
    }
    const bytes = typeof value === "string" ? decodeBase64(value) : undefined;
    if (bytes?.byteLength !== 32) {
      return { ok: false, problem: `${dataKeysSecret}: key "${id}" must be the base64 of exactly 32 random bytes` };
    }
    keys.set(id, bytes);
  }
  if (!keys.has(parsed.current)) {
    return {
      ok: false,
      problem: `${dataKeysSecret}: current key "${parsed.current.slice(0, 40)}" is not among its keys`,
    };
  }
  return { ok: true, keys: { current: parsed.current, keys } };
}

export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  try {
    const binary = atob(clean);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
