// Registers workflow definitions from a folder, skipping those the server already has.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

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
 * Registers every definition in `dir` with the server at `baseUrl`. The server answers a
 * definition equal to its latest version with that version (`200 {unchanged: true}`) and makes
 * no new one, so loading the same folder again changes nothing.
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
    const response = await fetch(`${baseUrl}/api/workflows`, {
      method: "POST",
      headers,
      body: JSON.stringify(definition),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 201 && response.status !== 200) {
      const message = body?.error?.message ?? JSON.stringify(body);
      return { file, workflowId, status: "failed", error: `${response.status} ${message}`, code: body?.error?.code };
    }
    const status = body.unchanged ? "unchanged" : body.version === 1 ? "created" : "updated";
    return { file, workflowId, status, version: body.version, hash: body.hash };
  } catch (error) {
    return { file, workflowId, status: "failed", error: error.message };
  }
}
