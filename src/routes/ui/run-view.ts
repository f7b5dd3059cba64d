import type { Env } from "../../env";
import { isErrorData } from "../../errors";
import type { Json } from "../../lib/json";
import { diffJson } from "../../lib/json-diff";
import type { ExecutionReport, StepReport } from "../../run/report";
import { redact } from "../../security/seal";
import { database } from "../../store/db";
import { getVersion } from "../../store/workflows";
import { runStub } from "../../triggers/start-run";
import { edgeState, type GraphEdge, type GraphNode, layoutGraph } from "../../ui/graph/dag-layout";
import type { ContextData } from "../../ui/pages/run/context-view";

/** The node's second line; the status is written out so colour is never the only cue. */
function detail(step: StepReport | undefined, type: string): string {
  const status = (step?.status ?? "pending").replaceAll("_", " ");
  if (step?.children) {
    const { succeeded, total } = step.children;
    return `${type} · ${succeeded}/${total} done · ${status}`;
  }
  if (step && step.attempts > 1) return `${type} · ${step.attempts} tries · ${status}`;
  return `${type} · ${status}`;
}

/**
 * The run's graph: nodes and edges from the definition of the run's version, statuses from its
 * report. Without the definition (a workflow deleted since) the steps are shown without edges.
 */
export async function runGraph(env: Env, report: ExecutionReport) {
  const stored = await getVersion(database(env.DB), report.workflowId, report.version);
  const steps = new Map(report.steps.map((step) => [step.nodeId, step]));
  const definitionNodes =
    stored?.definition.nodes ?? report.steps.map((step) => ({ id: step.nodeId, type: step.type }));
  const nodes: GraphNode[] = definitionNodes.map((node) => {
    const step = steps.get(node.id);
    return { id: node.id, type: node.type, status: step?.status ?? "pending", detail: detail(step, node.type) };
  });
  const edges: GraphEdge[] = (stored?.definition.edges ?? []).map((edge) => ({
    from: edge.from,
    to: edge.to,
    state: edgeState(steps.get(edge.from)?.status, steps.get(edge.to)?.status),
  }));
  return layoutGraph(nodes, edges);
}

async function contextAt(env: Env, runId: string, version: number, inline = false) {
  const result = await runStub(env, runId).contextAt(version, { inline });
  if (!result) return { error: "The run is gone." };
  if ("error" in result && isErrorData(result.error)) return { error: result.error.message };
  return redact(result as { version: number; context: Json });
}

/** The context at the chosen version, and the diff between two versions when both are asked for. */
export async function runContext(
  env: Env,
  report: ExecutionReport,
  choice: {
    version?: number | undefined;
    from?: number | undefined;
    to?: number | undefined;
    inline?: boolean | undefined;
  },
): Promise<ContextData | { error: string }> {
  const version = choice.version ?? report.contextVersion;
  const inline = choice.inline === true;
  // Large values are references in the report; resolving them (from R2) is asked for, not done by default.
  const shown =
    version === report.contextVersion && !inline
      ? { version, context: report.context }
      : await contextAt(env, report.runId, version, inline);
  if ("error" in shown) return shown;
  const base = { version: shown.version, context: shown.context, inline };
  if (choice.from === undefined || choice.to === undefined) return base;
  const [before, after] = await Promise.all([
    contextAt(env, report.runId, choice.from),
    contextAt(env, report.runId, choice.to),
  ]);
  if ("error" in before) return before;
  if ("error" in after) return after;
  return {
    ...base,
    diff: { from: before.version, to: after.version, changes: diffJson(before.context, after.context) },
  };
}

/** `?step=&version=&from=&to=`: unusable values are dropped and said so on the page. */
export function parseRunQuery(query: Record<string, string>, report: ExecutionReport) {
  const problems: string[] = [];
  const number = (name: string): number | undefined => {
    const value = query[name];
    if (value === undefined || value === "") return undefined;
    const parsed = Number(value);
    if (/^\d{1,9}$/.test(value) && parsed <= report.contextVersion) return parsed;
    problems.push(
      `${name}: no context version ${value.slice(0, 40)} in this run (0 to ${report.contextVersion}); ignored`,
    );
    return undefined;
  };
  let step: string | undefined = query.step;
  if (step !== undefined && !report.steps.some((entry) => entry.nodeId === step)) {
    problems.push(`step: this run has no step ${step.slice(0, 80)}; ignored`);
    step = undefined;
  }
  const version = number("version");
  const from = number("from");
  const to = number("to");
  const inline = query.inline === "1" || query.inline === "true";
  return { step, version, from, to, inline, problems };
}
