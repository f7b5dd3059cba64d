import type { ErrorCode } from "../errors";
import { checkExpression } from "../expr/jsonata";
import { checkTemplate } from "../expr/template";
import { nodeSpec } from "../nodes/registry";
import { compensateCommonKeys, compensateCommonSchema, type RawNodeDefinition } from "./schema";

type Path = (string | number)[];
type Add = (code: ErrorCode, path: Path, message: string) => void;

/** A node's `compensate` split into the parts every type shares and its node type's request. */
export function splitCompensate(compensate: Record<string, unknown>): {
  common: Record<string, unknown>;
  request: Record<string, unknown>;
} {
  const common: Record<string, unknown> = {};
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(compensate)) {
    if ((compensateCommonKeys as readonly string[]).includes(key)) common[key] = value;
    else request[key] = value;
  }
  return { common, request };
}

/**
 * Compensation in a definition (docs/definitions.md#compensation): a `compensate` only on node
 * types that can undo their effect, each part valid, its templates sound; `onFailure` or
 * `onCancel: "compensate"` only when some node has something to undo.
 */
export function checkCompensations(nodes: (RawNodeDefinition | undefined)[], doc: Record<string, unknown>, add: Add) {
  let any = false;
  for (const [index, node] of nodes.entries()) {
    if (node?.compensate === undefined) continue;
    const at: Path = ["nodes", index, "compensate"];
    const spec = nodeSpec(node.type);
    if (!spec) continue;
    if (!spec.compensation) {
      add(
        "definition.compensate_unsupported",
        at,
        `node "${node.id}": a ${node.type} node cannot have a compensate (only nodes whose effect can be undone: http)`,
      );
      continue;
    }
    any = true;
    const { common, request } = splitCompensate(node.compensate);
    const shared = compensateCommonSchema.safeParse(common);
    if (!shared.success) {
      for (const issue of shared.error.issues) add("definition.invalid", [...at, ...toPath(issue.path)], issue.message);
    }
    const parsed = spec.compensation.config.safeParse(request);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        add("definition.config_invalid", [...at, ...toPath(issue.path)], `${node.type} compensate: ${issue.message}`);
      }
      continue;
    }
    for (const site of spec.compensation.expressions(parsed.data)) {
      const problem = site.template ? checkTemplate(site.source) : checkExpression(site.source);
      if (!problem) continue;
      const kind = site.template ? "template" : "expression";
      add(
        "definition.expression_invalid",
        [...at, ...site.path],
        `invalid ${kind} ${JSON.stringify(site.source)}: ${problem.message}`,
      );
    }
  }
  for (const field of ["onFailure", "onCancel"] as const) {
    if (doc[field] !== "compensate" || any) continue;
    // A node whose compensate is refused above has been reported already; this is about none at all.
    if (nodes.some((node) => node?.compensate !== undefined)) continue;
    add(
      "definition.nothing_to_compensate",
      [field],
      `${field} is "compensate" but no node has a compensate: give the steps to undo a compensate, or drop ${field}`,
    );
  }
}

function toPath(path: readonly PropertyKey[]): Path {
  return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}
