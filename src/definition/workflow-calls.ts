import { isInline } from "../nodes/body";
import { nodeSpec } from "../nodes/registry";
import type { DefinitionIssue, IssuePath } from "./validate";

/** A workflow a definition runs as children (subworkflow, or a map or loop body naming one). */
export interface WorkflowCall {
  workflowId: string;
  version?: number;
  /** Where in the definition it is named. */
  path: IssuePath;
}

/** Every workflow a definition calls, inline bodies included, in document order. */
export function workflowCalls(definition: { nodes?: unknown }, at: IssuePath = []): WorkflowCall[] {
  const calls: WorkflowCall[] = [];
  const nodes = Array.isArray(definition.nodes) ? definition.nodes : [];
  for (const [index, node] of nodes.entries()) {
    const { type, config } = (node ?? {}) as { type?: unknown; config?: unknown };
    const spec = typeof type === "string" ? nodeSpec(type) : undefined;
    if (!spec?.body) continue;
    const parsed = spec.config.safeParse(config);
    if (!parsed.success) continue;
    const body = spec.body(parsed.data);
    const path = [...at, "nodes", index, "config", ...body.path];
    if (isInline(body.ref)) calls.push(...workflowCalls(body.ref, path));
    else calls.push({ workflowId: body.ref.workflow, ...optionalVersion(body.ref.version), path });
  }
  return calls;
}

function optionalVersion(version: number | undefined): { version?: number } {
  return version === undefined ? {} : { version };
}

export type LoadWorkflow = (
  workflowId: string,
  version?: number,
) => Promise<{ version: number; definition: unknown } | undefined>;

/**
 * Registration's check of the workflows a definition calls, against what is stored: each must
 * exist (at its pinned version, if pinned), and no chain of calls may lead back to a workflow
 * already on it. The definition being registered stands for its workflow's latest version;
 * a pinned version is its own node, so calling an older version of oneself is a cycle only if
 * that version calls back.
 */
export async function checkWorkflowCalls(
  definition: { id: string; nodes: unknown[] },
  load: LoadWorkflow,
): Promise<DefinitionIssue[]> {
  const issues: DefinitionIssue[] = [];
  const loaded = new Map<string, Promise<{ version: number; definition: unknown } | undefined>>();
  const fetch = (workflowId: string, version?: number) => {
    const key = `${workflowId}@${version ?? "latest"}`;
    let found = loaded.get(key);
    if (!found) {
      found = load(workflowId, version);
      loaded.set(key, found);
    }
    return found;
  };
  const rootKey = `${definition.id}@new`;
  const finished = new Set<string>();
  const reported = new Set<string>();

  /** Depth-first over calls; `trail` holds the keys and ids of the workflows on the current chain. */
  async function visit(
    calls: WorkflowCall[],
    trail: { key: string; id: string }[],
    rootPath: IssuePath | undefined,
  ): Promise<void> {
    for (const call of calls) {
      const path = rootPath ?? call.path;
      let key: string;
      let callee: unknown;
      if (call.workflowId === definition.id && call.version === undefined) {
        key = rootKey;
        callee = definition;
      } else {
        const stored = await fetch(call.workflowId, call.version);
        if (!stored) {
          // Only the definition's own calls are its author's to fix; a stored workflow's missing
          // callee fails that call when it runs.
          if (!rootPath) {
            const what = call.version === undefined ? "" : ` version ${call.version}`;
            issues.push({
              code: "definition.workflow_not_found",
              path,
              message: `calls workflow "${call.workflowId}"${what}, which does not exist`,
            });
          }
          continue;
        }
        key = `${call.workflowId}@${stored.version}`;
        callee = stored.definition;
      }
      const at = trail.findIndex((entry) => entry.key === key);
      if (at !== -1) {
        const cycle = [...trail.slice(at).map((entry) => entry.id), call.workflowId];
        const text = cycle.join(" -> ");
        if (!reported.has(text)) {
          reported.add(text);
          issues.push({ code: "definition.workflow_cycle", path, message: `workflows call each other: ${text}` });
        }
        continue;
      }
      if (finished.has(key)) continue;
      await visit(workflowCalls(callee as { nodes?: unknown }), [...trail, { key, id: call.workflowId }], path);
      finished.add(key);
    }
  }

  await visit(workflowCalls(definition), [{ key: rootKey, id: definition.id }], undefined);
  return issues;
}
