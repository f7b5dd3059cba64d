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
 * The workflows a definition runs as child runs: subworkflow steps, map and loop bodies naming
 * one, and those inside inline bodies (the server's own walk is src/definition/workflow-calls.ts).
 */
export function calledWorkflows(definition) {
  const called = new Set();
  const nodes = Array.isArray(definition?.nodes) ? definition.nodes : [];
  for (const node of nodes) {
    const config = node?.config ?? {};
    const body = node?.type === "subworkflow" ? config : config.body;
    if (typeof body?.workflow === "string") called.add(body.workflow);
    else if (Array.isArray(body?.nodes)) for (const id of calledWorkflows(body)) called.add(id);
  }
  return called;
}

/**
 * The entries in the order they can be registered: a workflow after the ones it calls, since
 * the server refuses a call to a workflow it does not have yet. Otherwise file order is kept.
 * A call to a workflow outside the folder orders nothing (the server may have it); entries on
 * a cycle get an error naming it, as the server would refuse them anyway.
 */
export function registrationOrder(entries) {
  const byId = new Map();
  for (const entry of entries) if (typeof entry.definition?.id === "string") byId.set(entry.definition.id, entry);
  const ordered = [];
  const done = new Set();
  const path = [];
  const visit = (entry) => {
    if (done.has(entry)) return;
    const id = entry.definition?.id;
    const at = path.indexOf(entry);
    if (at >= 0) {
      const cycle = [...path.slice(at), entry].map((step) => step.definition.id).join(" -> ");
      for (const member of path.slice(at)) member.error ??= `workflows call each other in a cycle: ${cycle}`;
      return;
    }
    path.push(entry);
    for (const called of calledWorkflows(entry.definition)) {
      const dependency = byId.get(called);
      if (dependency && called !== id) visit(dependency);
    }
    path.pop();
    done.add(entry);
    ordered.push(entry);
  };
  for (const entry of entries) visit(entry);
  return ordered;
}

/**
 * Registers every definition in `dir` with the server at `baseUrl`, in registration order. The
 * server answers a definition equal to its latest version with that version (`200 {unchanged:
 * true}`) and makes no new one, so loading the same folder again changes nothing. Returns one
 * result per file, in file order: created, updated, unchanged or failed (with `error`).
 */
export async function registerWorkflows({ baseUrl, token, dir }) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const entries = await readWorkflowFiles(dir);
  const results = new Map(entries.map((entry) => [entry.file, undefined]));
  for (const entry of registrationOrder(entries)) results.set(entry.file, await registerOne(baseUrl, headers, entry));
  return [...results.values()];
}

async function registerOne(baseUrl, headers, entry) {
  const { file, definition } = entry;
  const workflowId = definition?.id;
  if (entry.error) return { file, ...(workflowId ? { workflowId } : {}), status: "failed", error: entry.error };
  try {
    const response = await fetch(`${baseUrl}/api/workflows`, {
      method: "POST",
      headers,
      body: JSON.stringify(definition),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 201 && response.status !== 200) {
      const message = body?.error?.message ?? JSON.stringify(body);
      return { file, workflowId, status: "failed", error: `${response.status} ${message}` };
    }
    const status = body.unchanged ? "unchanged" : body.version === 1 ? "created" : "updated";
    return { file, workflowId, status, version: body.version, hash: body.hash };
  } catch (error) {
    return { file, workflowId, status: "failed", error: error.message };
  }
}
