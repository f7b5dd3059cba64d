// The local API token lives in .dev.vars, which wrangler dev reads and git ignores.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Returns the API_TOKEN from `path`, adding a fresh random one (to a new or existing file)
 * when there is none. `created` tells the caller a token was just made.
 */
export function ensureApiToken(path) {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const match = /^\s*API_TOKEN\s*=\s*(.*?)\s*$/m.exec(text);
  const existing = match?.[1]?.replace(/^(["'])(.*)\1$/, "$2");
  if (existing) return { token: existing, created: false };
  const token = randomBytes(24).toString("base64url");
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(path, `${text}${separator}API_TOKEN=${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

/**
 * Adds a DATA_KEYS (one fresh random AES-256 key, docs/security.md#sensitive-data) to `path`
 * when it holds none, so workflows that mark sensitive data register locally. `created` tells
 * the caller a key was just made.
 */
export function ensureDataKeys(path) {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  if (/^\s*DATA_KEYS\s*=/m.test(text)) return { created: false };
  const keys = JSON.stringify({ current: "k1", keys: { k1: randomBytes(32).toString("base64") } });
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(path, `${text}${separator}DATA_KEYS='${keys}'\n`, { mode: 0o600 });
  return { created: true };
}

/** The NAME=value pairs of a .dev.vars file (quotes taken off); empty when there is none. */
export function readDevVars(path) {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const vars = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}
