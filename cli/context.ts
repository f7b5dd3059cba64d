import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { type Api, createApi } from "./api";
import { usageError } from "./cli-error";
import { Client } from "./client";
import { type Connection, resolveConnection } from "./config";

interface GlobalOptions {
  url?: string;
  json?: boolean;
}

/** What every command's action needs: output mode and, when it talks to the server, the API. */
export interface Context {
  json: boolean;
  connection(): Promise<Connection>;
  api(): Promise<Api>;
}

export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  const connection = () => resolveConnection({ url: options.url });
  return {
    json: options.json === true,
    connection,
    api: async () => createApi(new Client(await connection())),
  };
}

/**
 * A JSON argument given inline or as `@file`. Malformed JSON is a usage error naming the
 * option, never a stack trace.
 */
export async function jsonArgument(value: string, option: string): Promise<unknown> {
  let text = value;
  if (value.startsWith("@")) {
    const path = value.slice(1);
    try {
      text = await readFile(path, "utf8");
    } catch {
      throw usageError(`${option} ${value}: cannot read ${path}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (thrown) {
    const where = value.startsWith("@") ? value.slice(1) : "the value";
    throw usageError(
      `${option}: ${where} is not JSON (${(thrown as Error).message}): give JSON such as '{"name": "Ada"}' or @file.json`,
    );
  }
}

/** A positive whole number option (`--limit 20`). */
export function positiveInteger(value: string, option: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw usageError(`${option} must be a whole number of at least 1`);
  return Number(value);
}

/** `--to-version latest` or `--to-version 3`: the version a retried run moves onto (`--version` is the command's own). */
export function versionOption(value: string | undefined): { version?: "latest" | number } {
  if (value === undefined) return {};
  return value === "latest" ? { version: "latest" } : { version: positiveInteger(value, "--to-version") };
}
