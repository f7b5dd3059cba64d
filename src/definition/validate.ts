/**
 * Workflow definitions: the schema a workflow file is parsed with, the checks of its nodes,
 * graph, expressions, triggers and tests, and the plan compiled from it. Reads the node
 * registry and the engine's plan; never triggers, runs or storage.
 */
import type { z } from "zod";
import type { ErrorCode } from "../errors";
import { checkExpression } from "../expr/jsonata";
import { checkTemplate } from "../expr/template";
import { checkJsonSchema } from "../lib/json-schema-check";
import { inlineDefinition, isInline } from "../nodes/body";
import { isNodeType, nodeRegistry, nodeSpec } from "../nodes/registry";
import type { ExpressionSite, NodeSpec, NodeTarget } from "../nodes/types";
import { checkCompensations } from "./compensate-checks";
import { checkFlow } from "./flow-checks";
import { findCycles, type GraphEdge, reachableFromEntries, successors } from "./graph";
import { checkLlmReviews } from "./llm-checks";
import {
  definitionSchema,
  type EdgeDefinition,
  edgeSchema,
  type NodeDefinition,
  nodeSchema,
  type RawNodeDefinition,
  repeatableTriggerTypes,
  reservedContextKeys,
  type SensitiveDefinition,
  sensitiveSchema,
  type TriggerDefinition,
  triggerSchema,
  type WorkflowDefinition,
} from "./schema";
import { checkSensitive, type SensitiveNode } from "./sensitive-checks";
import { checkTestCases } from "./test-checks";
import { checkTriggerFields } from "./trigger-checks";
import { findWriteConflicts } from "./write-conflicts";

export type IssuePath = (string | number)[];

export interface DefinitionIssue {
  code: ErrorCode;
  path: IssuePath;
  message: string;
}

export type ValidationResult =
  | { ok: true; definition: WorkflowDefinition; configs: Record<string, unknown> }
  | { ok: false; issues: DefinitionIssue[] };

interface NodeEntry {
  node: RawNodeDefinition;
  spec: NodeSpec | undefined;
  /** Parsed config; absent when the type is unknown or the config is invalid. */
  config?: unknown;
}

/**
 * Checks a submitted definition as far as it can be checked: the document is also parsed
 * element by element, so one malformed node does not hide problems in the others, and the
 * graph checks run whenever the pieces they read are sound.
 */
export function validateDefinition(raw: unknown): ValidationResult {
  const issues: DefinitionIssue[] = [];
  const add = (code: ErrorCode, path: IssuePath, message: string) => issues.push({ code, path, message });
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(fromZod(issue));

  const doc = isRecord(raw) ? raw : {};
  const triggers = doc.triggers === undefined ? [] : parseEach(doc.triggers, triggerSchema);
  const nodes = parseEach(doc.nodes, nodeSchema);
  const edges = doc.edges === undefined ? [] : parseEach(doc.edges, edgeSchema);

  if (triggers) checkTriggers(triggers, add);
  for (const issue of checkFlow(doc.flow)) add(issue.code, issue.path, issue.message);
  if (typeof doc.output === "string") checkSite({ path: ["output"], source: doc.output }, [], add);
  const entries = nodes ? checkNodes(nodes, add) : [];
  if (nodes) checkEscalations(nodes, doc.reviewers, add);
  if (nodes) checkCompensations(nodes, doc, add);
  if (nodes) checkLlmReviews(nodes, doc.reviewers, add);
  if (nodes && isComplete(nodes) && edges) checkGraph(entries, edges, add);
  if (nodes && isComplete(nodes)) checkTestCases(doc.tests, new Set(nodes.map((node) => node.id)), add);
  if (triggers && nodes && isComplete(nodes))
    checkSensitive(sensitiveOf(doc.sensitive), writersOf(entries), triggers, add);

  if (issues.length > 0 || !parsed.success) {
    const rank = (issue: DefinitionIssue) => documentRank(raw, issue.path);
    const ranked = issues.map((issue) => ({ issue, rank: rank(issue) }));
    ranked.sort((a, b) => compareRanks(a.rank, b.rank));
    return { ok: false, issues: ranked.map((entry) => entry.issue) };
  }
  const configs: Record<string, unknown> = {};
  for (const entry of entries) configs[entry.node.id] = entry.config;
  // Every node's type was checked above; the check is repeated here as the narrowing it is.
  const { nodes: parsedNodes } = parsed.data;
  if (!parsedNodes.every(hasKnownType)) return { ok: false, issues: [] };
  // `$schema` points editors at the format; two files that differ only there are one definition.
  const { $schema: _editorSchema, ...definition } = parsed.data;
  return { ok: true, definition: { ...definition, nodes: parsedNodes }, configs };
}

function sensitiveOf(value: unknown): SensitiveDefinition | undefined {
  const parsed = sensitiveSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function writersOf(entries: NodeEntry[]): (SensitiveNode & { index: number })[] {
  return entries.map((entry, index) => ({
    id: entry.node.id,
    index,
    sensitive: entry.node.sensitive,
    writes: entry.spec && entry.config !== undefined ? entry.spec.writes(entry.config) : undefined,
    caches: entry.node.type === "llm" && isRecord(entry.config) && entry.config.cache === true,
  }));
}

function hasKnownType(node: RawNodeDefinition): node is NodeDefinition {
  return isNodeType(node.type);
}

type Add = (code: ErrorCode, path: IssuePath, message: string) => void;

function fromZod(issue: z.core.$ZodIssue): DefinitionIssue {
  const path = toPath(issue.path);
  // An empty workflow has its own code so clients can tell it from a malformed one.
  const empty = issue.code === "too_small" && path.length === 1 && path[0] === "nodes";
  return { code: empty ? "definition.empty" : "definition.invalid", path, message: issue.message };
}

function toPath(path: readonly PropertyKey[]): IssuePath {
  return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Each element parsed on its own (undefined where it fails); undefined when not an array. */
function parseEach<T>(value: unknown, schema: z.ZodType<T>): (T | undefined)[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((element) => {
    const result = schema.safeParse(element);
    return result.success ? result.data : undefined;
  });
}

function isComplete<T>(list: (T | undefined)[]): list is T[] {
  return list.every((element) => element !== undefined);
}

function checkTriggers(triggers: (TriggerDefinition | undefined)[], add: Add): void {
  const seen = new Set<string>();
  for (const [index, trigger] of triggers.entries()) {
    if (!trigger) continue;
    if (seen.has(trigger.type) && !repeatableTriggerTypes.has(trigger.type))
      add("definition.invalid", ["triggers", index, "type"], `duplicate ${trigger.type} trigger`);
    seen.add(trigger.type);
    if (trigger.type === "email") {
      // One address, one trigger: the message's limits and allow-list must not depend on which matched.
      const address = `email:${trigger.address.toLowerCase()}`;
      if (seen.has(address))
        add("definition.invalid", ["triggers", index, "address"], `duplicate email address ${trigger.address}`);
      seen.add(address);
    }
    for (const issue of checkTriggerFields(trigger)) add(issue.code, ["triggers", index, ...issue.path], issue.message);
    if (trigger.schema === undefined) continue;
    const problem = checkJsonSchema(trigger.schema);
    if (problem) add("definition.schema_invalid", ["triggers", index, "schema"], `invalid JSON Schema: ${problem}`);
  }
}

function checkNodes(nodes: (RawNodeDefinition | undefined)[], add: Add): NodeEntry[] {
  const entries: NodeEntry[] = [];
  const seen = new Set<string>();
  for (const [index, node] of nodes.entries()) {
    if (!node) continue;
    const at: IssuePath = ["nodes", index];
    if (seen.has(node.id)) add("definition.duplicate_node", [...at, "id"], `duplicate node id "${node.id}"`);
    seen.add(node.id);
    const spec = nodeSpec(node.type);
    const entry: NodeEntry = { node, spec };
    entries.push(entry);
    if (!spec) {
      const known = [...nodeRegistry.keys()].join(", ");
      add("definition.unknown_node_type", [...at, "type"], `unknown node type "${node.type}" (known: ${known})`);
      continue;
    }
    const result = spec.config.safeParse(node.config);
    if (!result.success) {
      for (const issue of result.error.issues) {
        add("definition.config_invalid", [...at, "config", ...toPath(issue.path)], `${node.type}: ${issue.message}`);
      }
      continue;
    }
    entry.config = result.data;
    const sites = spec.expressions(result.data);
    for (const site of sites) checkSite(site, [...at, "config"], add);
    checkBody(spec, result.data, [...at, "config"], add);
    const reserved = new Set<string>(reservedContextKeys);
    for (const key of spec.writes(result.data)) {
      if (!reserved.has(key)) continue;
      const path = locateWrite(node.config, key, sites) ?? [];
      add(
        "definition.reserved_key",
        [...at, "config", ...path],
        `node "${node.id}" writes reserved context key "${key}"`,
      );
    }
  }
  return entries;
}

function checkSite(site: ExpressionSite, at: IssuePath, add: Add): void {
  const problem = site.template ? checkTemplate(site.source) : checkExpression(site.source);
  if (!problem) return;
  const where = problem.position === undefined ? "" : ` (position ${problem.position})`;
  const message = `invalid ${site.template ? "template" : "expression"} ${JSON.stringify(site.source)}: ${problem.message}${where}`;
  add("definition.expression_invalid", [...at, ...site.path], message);
}

/** An inline body (map, loop) is a workflow of its own: validated as one, its issues pointing inside it. */
function checkBody(spec: NodeSpec, config: unknown, at: IssuePath, add: Add): void {
  const body = spec.body?.(config);
  if (!body || !isInline(body.ref)) return;
  const result = validateDefinition(inlineDefinition(body.ref));
  if (result.ok) return;
  for (const issue of result.issues) add(issue.code, [...at, ...body.path, ...issue.path], issue.message);
}

/**
 * Specs name the keys a node writes but not where in the config they come from, so the
 * config is searched: an object key spelled like the write (transform's `set`) wins, then
 * a string value that is not an expression (http's `output`).
 */
function locateWrite(config: unknown, key: string, sites: ExpressionSite[]): IssuePath | undefined {
  const expressionPaths = new Set(sites.map((site) => JSON.stringify(site.path)));
  const search = (value: unknown, path: IssuePath, byKey: boolean): IssuePath | undefined => {
    if (!byKey && value === key && !expressionPaths.has(JSON.stringify(path))) return path;
    if (typeof value !== "object" || value === null) return undefined;
    for (const [name, inner] of Object.entries(value)) {
      const innerPath = [...path, Array.isArray(value) ? Number(name) : name];
      if (byKey && name === key && !Array.isArray(value)) return innerPath;
      const found = search(inner, innerPath, byKey);
      if (found) return found;
    }
    return undefined;
  };
  return search(config, [], true) ?? search(config, [], false);
}

/** An escalation needs someone to escalate to: the node's `escalateTo` or the workflow's `reviewers`. */
function checkEscalations(nodes: (RawNodeDefinition | undefined)[], reviewers: unknown, add: Add): void {
  const hasDefault = Array.isArray(reviewers) && reviewers.length > 0;
  for (const [index, node] of nodes.entries()) {
    if (node?.retry?.escalateAfter === undefined || node.retry.escalateTo || hasDefault) continue;
    add(
      "definition.invalid",
      ["nodes", index, "retry", "escalateAfter"],
      `node "${node.id}" escalates but names no reviewers: set retry.escalateTo or the workflow's reviewers`,
    );
  }
}

function checkGraph(entries: NodeEntry[], edges: (EdgeDefinition | undefined)[], add: Add): void {
  const ids = [...new Set(entries.map((entry) => entry.node.id))];
  const known = new Set(ids);
  const seen = new Set<string>();
  const sound: { edge: GraphEdge; index: number }[] = [];
  let unknownEndpoint = false;
  let selfEdge = false;
  for (const [index, edge] of edges.entries()) {
    if (!edge) continue;
    for (const end of ["from", "to"] as const) {
      if (known.has(edge[end])) continue;
      unknownEndpoint = true;
      add("definition.unknown_node", ["edges", index, end], `edge ${end} unknown node "${edge[end]}"`);
    }
    if (!known.has(edge.from) || !known.has(edge.to)) continue;
    const key = JSON.stringify([edge.from, edge.to]);
    if (seen.has(key)) {
      add("definition.duplicate_edge", ["edges", index], `duplicate edge ${edge.from} -> ${edge.to}`);
    } else if (edge.from === edge.to) {
      selfEdge = true;
      add("definition.cycle", ["edges", index], `cycle: ${edge.from} -> ${edge.from}`);
    } else {
      sound.push({ edge, index });
    }
    seen.add(key);
  }
  checkBranchTargets(entries, known, seen, add);

  // Duplicate ids or dangling edges leave the graph ambiguous: cycles and reachability
  // computed over it would report phantoms.
  if (ids.length !== entries.length || unknownEndpoint || !isComplete(edges)) return;
  const graphEdges = sound.map((entry) => entry.edge);
  const cycles = findCycles(ids, graphEdges);
  for (const cycle of cycles) {
    const from = cycle[cycle.length - 2];
    const closing = sound.find((entry) => entry.edge.from === from && entry.edge.to === cycle[0]);
    add("definition.cycle", ["edges", closing?.index ?? 0], `cycle: ${cycle.join(" -> ")}`);
  }
  // In a cyclic graph every node on a cycle looks unreachable; the cycle is the real problem.
  if (cycles.length > 0 || selfEdge) return;
  checkReachability(entries, graphEdges, add);
  checkWriteConflicts(entries, graphEdges, add);
}

/** Nodes that may run at the same time must not write the same context key (no last-write-wins). */
function checkWriteConflicts(entries: NodeEntry[], edges: GraphEdge[], add: Add): void {
  if (entries.some((entry) => entry.config === undefined)) return;
  const succs = successors(
    entries.map((entry) => entry.node.id),
    edges,
  );
  const writers = entries.map((entry) => {
    const config = entry.config;
    const writes = entry.spec && config !== undefined ? entry.spec.writes(config) : [];
    const targets = targetsOf(entry);
    const timeout = timeoutTargetOf(entry);
    const exclusive = targets
      ? [...new Set(targets.map((target) => target.nodeId))].map((id) => [id])
      : timeout
        ? [[timeout.nodeId], (succs.get(entry.node.id) ?? []).filter((id) => id !== timeout.nodeId)]
        : undefined;
    return { id: entry.node.id, writes, ...(exclusive ? { exclusive } : {}) };
  });
  const index = new Map(entries.map((entry, at) => [entry.node.id, at]));
  for (const conflict of findWriteConflicts(writers, edges)) {
    const at = index.get(conflict.second) ?? 0;
    const entry = entries[at] as NodeEntry;
    const key = conflict.keys[0] as string;
    const sites = entry.spec && entry.config !== undefined ? entry.spec.expressions(entry.config) : [];
    const keys = conflict.keys.map((name) => `"${name}"`).join(", ");
    add(
      "definition.write_conflict",
      ["nodes", at, "config", ...(locateWrite(entry.node.config, key, sites) ?? [])],
      `nodes "${conflict.first}" and "${conflict.second}" may run at the same time and both write ${keys}: give one of them another key, or order them with an edge`,
    );
  }
}

/** A node's timeout path (wait for an event), when its config parsed and names one. */
function timeoutTargetOf(entry: NodeEntry): NodeTarget | undefined {
  return entry.spec?.timeoutTarget && entry.config !== undefined ? entry.spec.timeoutTarget(entry.config) : undefined;
}

/** Targets of a routing node whose config parsed; undefined for every other node. */
function targetsOf(entry: NodeEntry): NodeTarget[] | undefined {
  return entry.spec?.targets && entry.config !== undefined ? entry.spec.targets(entry.config) : undefined;
}

function checkBranchTargets(entries: NodeEntry[], known: Set<string>, edgeKeys: Set<string>, add: Add): void {
  for (const [index, entry] of entries.entries()) {
    const id = entry.node.id;
    const timeoutTarget = timeoutTargetOf(entry);
    for (const target of [...(targetsOf(entry) ?? []), ...(timeoutTarget ? [timeoutTarget] : [])]) {
      const path: IssuePath = ["nodes", index, "config", ...target.path];
      if (!known.has(target.nodeId)) {
        add("definition.branch_target", path, `"${id}" routes to unknown node "${target.nodeId}"`);
      } else if (!edgeKeys.has(JSON.stringify([id, target.nodeId]))) {
        add(
          "definition.branch_target",
          path,
          `"${id}" routes to "${target.nodeId}" but has no edge ${id} -> ${target.nodeId}`,
        );
      }
    }
  }
}

function checkReachability(entries: NodeEntry[], edges: GraphEdge[], add: Add): void {
  const routes = new Map<string, Set<string>>();
  for (const entry of entries) {
    const targets = targetsOf(entry);
    if (targets) routes.set(entry.node.id, new Set(targets.map((target) => target.nodeId)));
  }
  // A routing node's successor runs only if some case or the default names it.
  const follows = (edge: GraphEdge) => routes.get(edge.from)?.has(edge.to) ?? true;
  const ids = entries.map((entry) => entry.node.id);
  const reached = reachableFromEntries(ids, edges, follows);
  for (const [index, entry] of entries.entries()) {
    const id = entry.node.id;
    if (reached.has(id)) continue;
    const blockedBy = edges.filter((edge) => edge.to === id && reached.has(edge.from) && !follows(edge));
    const message =
      blockedBy.length > 0
        ? `node "${id}" can never run: ${blockedBy.map((edge) => `"${edge.from}"`).join(", ")} ${blockedBy.length > 1 ? "do" : "does"} not route to it`
        : `node "${id}" can never run: no path from an entry node reaches it`;
    add("definition.unreachable", ["nodes", index], message);
  }
}

/** Position of each path segment in the submitted document, for ordering issues. */
function documentRank(raw: unknown, path: IssuePath): number[] {
  let at: unknown = raw;
  return path.map((segment) => {
    if (Array.isArray(at) && typeof segment === "number") {
      at = at[segment];
      return segment;
    }
    if (!isRecord(at)) return 0;
    const keys = Object.keys(at);
    const position = keys.indexOf(String(segment));
    at = at[String(segment)];
    // Missing keys (a required field left out) sort after the keys that are there.
    return position === -1 ? keys.length : position;
  });
}

function compareRanks(a: number[], b: number[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}
