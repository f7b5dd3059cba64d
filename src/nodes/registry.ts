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

const specs: readonly NodeSpec[] = [
  transformNode,
  branchNode,
  httpNode,
  logNode,
  waitNode,
  humanNode,
  llmNode,
  mapNode,
  loopNode,
  subworkflowNode,
  extractNode,
  embedNode,
];

export const nodeRegistry: ReadonlyMap<string, NodeSpec> = new Map(specs.map((spec) => [spec.type, spec]));

export function nodeSpec(type: string): NodeSpec | undefined {
  return nodeRegistry.get(type);
}
