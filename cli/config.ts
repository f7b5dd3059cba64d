import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { readDevVars } from "../scripts/lib/dev-vars.mjs";
import { CliError } from "./cli-error";

export const defaultUrl = "http://127.0.0.1:8787";

/** Where the command line finds the server, and the key it presents. */
export interface Connection {
  url: string;
  token: string | undefined;
  /** Where the token came from, so a refusal can say which one to fix. */
  tokenSource: "SIGNALBOX_TOKEN" | "login" | ".dev.vars" | undefined;
}

export interface StoredLogin {
  url: string;
  token: string;
}

type Environment = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/signalbox/config.json`, or `~/.config/signalbox/config.json`. */
export function configPath(env: Environment = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "signalbox", "config.json");
}

export async function readLogin(env: Environment = process.env): Promise<StoredLogin | undefined> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredLogin>;
    if (typeof parsed.url === "string" && typeof parsed.token === "string")
      return { url: parsed.url, token: parsed.token };
  } catch {
    // Falls through to the message below: a hand-edited file that no longer parses.
  }
  throw new CliError(`${path} is not a login this command wrote: run \`signalbox login\` again`);
}

/** The key is a secret: the file is the user's alone (0600, in a 0700 folder), even if it existed before. */
export async function writeLogin(login: StoredLogin, env: Environment = process.env): Promise<string> {
  const path = configPath(env);
  const dir = join(path, "..");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${JSON.stringify(url)} is not a URL: give the server's origin, such as ${defaultUrl}`, 2);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`${url} is not an http(s) URL: give the server's origin, such as ${defaultUrl}`, 2);
  }
  return parsed.origin + parsed.pathname.replace(/\/+$/, "");
}

function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

/**
 * The URL: `--url`, then SIGNALBOX_URL, then the stored login's, then the local dev server.
 * The key: SIGNALBOX_TOKEN, then the stored login's (only for the URL it was stored with, so a
 * key never goes to another server), then, for a local server, the API_TOKEN that `npm run dev`
 * wrote to ./.dev.vars.
 */
export async function resolveConnection(
  options: { url?: string | undefined; cwd?: string },
  env: Environment = process.env,
): Promise<Connection> {
  const login = await readLogin(env);
  const url = normalizeUrl(options.url ?? (env.SIGNALBOX_URL || undefined) ?? login?.url ?? defaultUrl);
  if (env.SIGNALBOX_TOKEN) return { url, token: env.SIGNALBOX_TOKEN, tokenSource: "SIGNALBOX_TOKEN" };
  if (login && normalizeUrl(login.url) === url) return { url, token: login.token, tokenSource: "login" };
  if (isLocal(url)) {
    const token = readDevVars(join(options.cwd ?? process.cwd(), ".dev.vars")).API_TOKEN;
    if (token) return { url, token, tokenSource: ".dev.vars" };
  }
  return { url, token: undefined, tokenSource: undefined };
}
