import { sha256Hex } from "../lib/hash";
import { sortableId } from "../lib/ids";

/**
 * An API key reads `sbk_<id>_<secret>`: the prefix makes a leaked key recognisable to secret
 * scanners, the id finds its row without a scan, and only the secret's SHA-256 is stored.
 */
const keyPattern = /^sbk_([0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith("sbk_");
}

/** The key's id and secret, or undefined when it is not one Signalbox issued. */
export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  const match = keyPattern.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  return { id: `key_${match[1]}`, secret: match[2] };
}

export async function newApiKey(now: number): Promise<{ id: string; key: string; secretHash: string }> {
  const id = sortableId("key", now);
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { id, key: `sbk_${id.slice(4)}_${secret}`, secretHash: await hashSecret(secret) };
}

export function hashSecret(secret: string): Promise<string> {
  return sha256Hex(secret);
}
