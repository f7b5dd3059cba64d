import type { JsonObject } from "./json";

/**
 * The shapes sensitive values take (src/security/seal.ts seals and opens them): a sealed value as
 * stored, and the marker answers show in its place. Pure, so the engine may quote values redacted.
 */
export const sealedMarker = "$signalbox.sealed";
export const redactedMarker = "$signalbox.redacted";

/** A type, not an interface, so that a sealed value is a Json value wherever one is expected. */
export type Sealed = {
  [sealedMarker]: { kid: string; iv: string; ct: string };
};

export function isSealed(value: unknown): value is Sealed {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== sealedMarker) return false;
  const inner = (value as Record<string, unknown>)[sealedMarker];
  if (!inner || typeof inner !== "object" || Array.isArray(inner)) return false;
  const { kid, iv, ct } = inner as Record<string, unknown>;
  return typeof kid === "string" && typeof iv === "string" && typeof ct === "string";
}

export function redactedValue(): JsonObject {
  return { [redactedMarker]: true };
}

/** The sealed value's ciphertext: a stable identity for caching what it opens to. */
export function sealedId(value: Sealed): string {
  return value[sealedMarker].ct;
}

export function hasSealed(value: unknown): boolean {
  if (isSealed(value)) return true;
  if (Array.isArray(value)) return value.some(hasSealed);
  if (value && typeof value === "object") return Object.values(value).some(hasSealed);
  return false;
}

/** Every sealed value inside `value` replaced by the redaction marker; the rest shared, not copied. */
export function redact<T>(value: T): T {
  if (!hasSealed(value)) return value;
  return replaceSealed(value, () => redactedValue()) as T;
}

export function replaceSealed(value: unknown, replace: (sealed: Sealed) => unknown): unknown {
  if (isSealed(value)) return replace(value);
  if (Array.isArray(value)) return value.map((item) => replaceSealed(item, replace));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = replaceSealed(inner, replace);
    return out;
  }
  return value;
}

/** How deep sealed values may nest (a marked key holding a child run's sealed output). */
export const maxNesting = 8;
