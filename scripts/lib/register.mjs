// Registers workflow definitions from a folder, skipping those the server already has.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Defaults the server fills in when it parses a definition (src/definition/schema.ts). The
 * stored definition has them, so a file that leaves them out must get them before comparing.
 */
const definitionDefaults = { triggers: [{ type: "manual" }], edges: [] };

/** JSON with object keys sorted at every level, so equal documents give equal strings. */
export function canonicalJson(value) {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}

export function sameDefinition(local, stored) {
  return canonicalJson({ ...definitionDefaults, ...local }) === canonicalJson(stored);
}

/** The definitions in `dir` (every *.json, by file name), parsed; unreadable ones carry an error. */
export async function readWorkflowFiles(dir) {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
  return Promise.all(
    names.map(async (file) => {
      try {
        return { file, definition: JSON.parse(await readFile(join(dir, file), "utf8")) };
      } catch (error) {
        return { file, error: `cannot read ${file}: ${error.message}` };
      }
    }),
  );
}

/**
 * Registers every definition in `dir` with the server at `baseUrl`. The API makes a new
 * version on every POST, so a definition equal to the server's latest one is left alone.
 * A workflow that calls another (subworkflow, map or loop bodies) can only be registered after
 * it: those refused with `definition.workflow_not_found` are tried again after the rest, for as
 * long as a pass registers something. Returns one result per file: created, updated, unchanged
 * or failed (with `error`).
 */
export async function registerWorkflows({ baseUrl, token, dir }) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const results = new Map();
  let pending = await readWorkflowFiles(dir);
  for (;;) {
    const waiting = [];
    for (const entry of pending) {
      const result = await registerOne(baseUrl, headers, entry);
      results.set(entry.file, result);
      if (result.code === "definition.workflow_not_found") waiting.push(entry);
    }
    if (waiting.length === 0 || waiting.length === pending.length) break;
    pending = waiting;
  }
  return [...results.values()].map(({ code: _code, ...result }) => result);
}

async function registerOne(baseUrl, headers, entry) {
  if (entry.error) return { file: entry.file, status: "failed", error: entry.error };
  const { file, definition } = entry;
  const workflowId = definition?.id;
  try {
    const existing = await fetch(`${baseUrl}/api/workflows/${encodeURIComponent(workflowId)}`, { headers });
    let status = "created";
    if (existing.ok) {
      const stored = await existing.json();
      if (sameDefinition(definition, stored.definition)) {
        return { file, workflowId, status: "unchanged", version: stored.version, hash: stored.hash };
      }
      status = "updated";
    } else if (existing.status !== 404) {
      throw new Error(`GET /api/workflows/${workflowId} answered ${existing.status}: ${await existing.text()}`);
    }
    const response = await fetch(`${baseUrl}/api/workflows`, {
      method: "POST",
      headers,
      body: JSON.stringify(definition),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 201) {
      const message = body?.error?.message ?? JSON.stringify(body);
      return { file, workflowId, status: "failed", error: `${response.status} ${message}`, code: body?.error?.code };
    }
    return { file, workflowId, status, version: body.version, hash: body.hash };
  } catch (error) {
    return { file, workflowId, status: "failed", error: error.message };
  }
}
