import type { ErrorCode } from "../errors";
import { isInline } from "../nodes/body";
import { nodeSpec } from "../nodes/registry";
import type { SensitivePolicy } from "../security/sensitive";
import { reservedContextKeys, type SensitiveDefinition, type TriggerDefinition } from "./schema";

type IssuePath = (string | number)[];
type Add = (code: ErrorCode, path: IssuePath, message: string) => void;

export interface SensitiveNode {
  id: string;
  sensitive?: "output" | undefined;
  /** The keys the node writes; undefined when its config did not parse (nothing is checked then). */
  writes: readonly string[] | undefined;
  /** An llm node that keeps its answers in the D1 cache (`cache: true`), in plain text. */
  caches?: boolean;
}

/**
 * A sensitive mark must name something the workflow writes: a context key some node writes, a
 * node that writes at least one key, and an input field a trigger's schema declares (a workflow
 * whose triggers declare no schema takes any input, so any path may be marked).
 */
export function checkSensitive(
  sensitive: SensitiveDefinition | undefined,
  nodes: readonly (SensitiveNode & { index: number })[],
  triggers: readonly (TriggerDefinition | undefined)[],
  add: Add,
): void {
  const complete = nodes.every((node) => node.writes !== undefined);
  const written = new Set(nodes.flatMap((node) => node.writes ?? []));
  for (const node of nodes) {
    if (node.sensitive && node.writes?.length === 0) {
      add(
        "definition.sensitive_unwritten",
        ["nodes", node.index, "sensitive"],
        `node "${node.id}" is marked sensitive: "output" but writes no context key`,
      );
    }
  }
  const marks =
    (sensitive?.context?.length ?? 0) + (sensitive?.input?.length ?? 0) > 0 || nodes.some((node) => node.sensitive);
  for (const node of nodes) {
    if (!marks || !node.caches) continue;
    add(
      "definition.config_invalid",
      ["nodes", node.index, "config", "cache"],
      `node "${node.id}": the llm answer cache keeps prompts' answers in plain text; a workflow that marks sensitive data cannot use it`,
    );
  }
  const reserved = new Set<string>(reservedContextKeys);
  for (const [index, key] of (sensitive?.context ?? []).entries()) {
    if (reserved.has(key)) {
      add(
        "definition.sensitive_unwritten",
        ["sensitive", "context", index],
        `"${key}" is written by the run, not a node: mark its fields under sensitive.input instead`,
      );
    } else if (complete && !written.has(key)) {
      add(
        "definition.sensitive_unwritten",
        ["sensitive", "context", index],
        `sensitive context key "${key}" is written by no node`,
      );
    }
  }
  const schemas = triggers.flatMap((trigger) => (trigger?.schema === undefined ? [] : [trigger.schema]));
  const freeForm = triggers.some((trigger) => trigger !== undefined && trigger.schema === undefined);
  if (freeForm || schemas.length === 0) return;
  for (const [index, path] of (sensitive?.input ?? []).entries()) {
    if (schemas.some((schema) => declares(schema, path.split(".")))) continue;
    add(
      "definition.sensitive_unwritten",
      ["sensitive", "input", index],
      `sensitive input field "${path}" is declared by no trigger's schema`,
    );
  }
}

/** Whether a JSON Schema declares the path (through `properties`, and `items` for arrays). */
function declares(schema: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return true;
  if (!isRecord(schema)) return false;
  for (const branch of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[branch];
    if (Array.isArray(list) && list.some((inner) => declares(inner, path))) return true;
  }
  if (schema.items !== undefined && declares(schema.items, path)) return true;
  const properties = schema.properties;
  const [head, ...rest] = path as [string, ...string[]];
  if (isRecord(properties) && Object.hasOwn(properties, head)) return declares(properties[head], rest);
  // An object open to any property may hold the field.
  return isRecord(schema.additionalProperties) && declares(schema.additionalProperties, rest);
}

/** The policy a run applies; undefined when the workflow marks nothing. */
export function sensitivePolicyOf(
  sensitive: SensitiveDefinition | undefined,
  nodes: readonly SensitiveNode[],
): SensitivePolicy | undefined {
  const keys = new Set(sensitive?.context ?? []);
  for (const node of nodes) if (node.sensitive === "output") for (const key of node.writes ?? []) keys.add(key);
  const inputPaths = (sensitive?.input ?? []).map((path) => path.split("."));
  if (keys.size === 0 && inputPaths.length === 0) return undefined;
  return { keys, inputPaths };
}

/**
 * Whether a definition marks anything sensitive, itself or in an inline body of its map and loop
 * nodes (registration then needs DATA_KEYS).
 */
export function marksSensitive(
  definition: {
    sensitive?: SensitiveDefinition | undefined;
    nodes: readonly { type: string; sensitive?: "output" | undefined; config?: unknown }[];
  },
  depth = 0,
): boolean {
  if (
    (definition.sensitive?.context?.length ?? 0) > 0 ||
    (definition.sensitive?.input?.length ?? 0) > 0 ||
    definition.nodes.some((node) => node.sensitive === "output")
  ) {
    return true;
  }
  if (depth > 10) return false;
  return definition.nodes.some((node) => {
    const spec = nodeSpec(node.type);
    const parsed = spec?.config.safeParse(node.config);
    const body = parsed?.success ? spec?.body?.(parsed.data) : undefined;
    if (!body || !isInline(body.ref)) return false;
    const nodes = body.ref.nodes as { type: string; sensitive?: "output"; config?: unknown }[];
    return marksSensitive({ nodes }, depth + 1);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
