/**
 * The node types a workflow may use and the spec that runs each. `NodeType` is the union of
 * these names (the definition schema's node `type`); the registry is a record over it, so a
 * type without its spec, or a spec filed under another type's name, does not compile.
 */
import { branchNode } from "./branch";
import { embedNode } from "./embed";
import { extractNode } from "./extract";
import { httpNode } from "./http";
import { humanNode } from "./human";
import { llmNode } from "./llm";
import { logNode } from "./log";
import { loopNode } from "./loop";
import { mapNode } from "./map";
import { subworkflowNode } from "./subworkflow";
import { transformNode } from "./transform";
import type { NodeSpec } from "./types";
import { waitNode } from "./wait";

/** Every node type, in the order errors and the JSON Schema list them. */
export const nodeTypes = [
  "transform",
  "branch",
  "http",
  "log",
  "wait",
  "human",
  "llm",
  "map",
  "loop",
  "subworkflow",
  "extract",
  "embed",
] as const;

export type NodeType = (typeof nodeTypes)[number];

const registry: { readonly [Type in NodeType]: NodeSpec<unknown, Type> } = {
  transform: transformNode,
  branch: branchNode,
  http: httpNode,
  log: logNode,
  wait: waitNode,
  human: humanNode,
  llm: llmNode,
  map: mapNode,
  loop: loopNode,
  subworkflow: subworkflowNode,
  extract: extractNode,
  embed: embedNode,
};

const knownTypes: ReadonlySet<string> = new Set(nodeTypes);

export function isNodeType(type: string): type is NodeType {
  return knownTypes.has(type);
}

/** Every spec, keyed by type, in `nodeTypes` order. */
export const nodeRegistry: ReadonlyMap<NodeType, NodeSpec> = new Map(nodeTypes.map((type) => [type, registry[type]]));

export function nodeSpec(type: string): NodeSpec | undefined {
  return isNodeType(type) ? registry[type] : undefined;
}
