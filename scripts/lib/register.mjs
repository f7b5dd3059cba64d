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
 * API makes a new version on every POST, so a definition equal to the server's latest one is
 * left alone. Returns one result per file, in file order: created, updated, unchanged or failed
 * (with `error`).
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
      return { file, workflowId, status: "failed", error: `${response.status} ${message}` };
    }
    return { file, workflowId, status, version: body.version, hash: body.hash };
  } catch (error) {
    return { file, workflowId, status: "failed", error: error.message };
  }
}
