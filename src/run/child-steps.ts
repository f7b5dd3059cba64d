import type { NodeOutcome } from "../engine/outcome";
import { type RunState, runDepth } from "../engine/state";
import { type ErrorData, errorData } from "../errors";
import { evaluate, truthy } from "../expr/jsonata";
import { byteLength } from "../lib/blob-ref";
import { type Json, type JsonObject, toJson } from "../lib/json";
import { inlineDefinition, isInline } from "../nodes/body";
import { nodeSpec } from "../nodes/registry";
import type { ChildBody } from "./children-store";
import type { LoadedPlan } from "./plans";

/**
 * What a map, loop or subworkflow step's children are, the same for a run (src/run/children.ts,
 * children as Durable Objects reached through jobs) and a dry run (src/run/dry-children.ts,
 * children as dry runs in memory): the body they run, the nesting limit, each iteration's
 * input, the loop's condition, the size of a child's output and the step's assembled output.
 */

/** Runs nest at most this deep: a top-level run is level 1; a step that would start level 6 fails. */
export const maxRunLevels = 5;
/** What one child's output may hold: it is a row of the parent's SQLite and part of its step's output. */
export const maxChildOutputBytes = 1024 * 1024;

/** A stored workflow version, as a subworkflow names it. */
export type LoadWorkflow = (workflowId: string, version?: number) => Promise<ChildBody | undefined>;

/** The keys of a spawning node's config the shell reads. */
export interface OutputKeys {
  output: string;
  failures?: string;
  until?: string;
  input?: string;
}

/** A child as the step's output sees it. */
export interface ChildResult {
  index: number;
  status: "pending" | "running" | "success" | "failed" | "cancelled";
  output?: Json | undefined;
  error?: ErrorData | undefined;
}

export function outputKeys(loaded: LoadedPlan | undefined, nodeId: string): OutputKeys {
  const config = loaded?.configs[nodeId];
  const output = typeof config === "object" && config !== null ? Reflect.get(config, "output") : undefined;
  if (typeof output !== "string") return { output: nodeId };
  const text = (key: string) => {
    const value = Reflect.get(config as object, key);
    return typeof value === "string" ? { [key]: value } : {};
  };
  return { output, ...text("failures"), ...text("until"), ...text("input") };
}

/** What the step's children run (the body's definition, at the version they all share), or why they cannot start. */
export async function resolveBody(
  state: RunState | undefined,
  loaded: LoadedPlan | undefined,
  nodeId: string,
  load: LoadWorkflow,
): Promise<{ ok: true; body: ChildBody } | { ok: false; outcome: NodeOutcome }> {
  const node = loaded?.plan.nodes[nodeId];
  const body = node && nodeSpec(node.type)?.body?.(loaded?.configs[node.id]);
  if (!state || !body)
    return { ok: false, outcome: failure("node.failed", `${nodeId} names nothing to run as children`) };
  const level = runDepth(state);
  if (level + 1 > maxRunLevels) {
    return {
      ok: false,
      outcome: failure(
        "subworkflow.depth_exceeded",
        `runs nest at most ${maxRunLevels} levels deep; this run is level ${level}`,
        {
          level,
          maxLevels: maxRunLevels,
        },
      ),
    };
  }
  if (isInline(body.ref)) {
    return {
      ok: true,
      body: {
        workflowId: `${state.workflowId}/${nodeId}`,
        version: state.version,
        definition: inlineDefinition(body.ref),
      },
    };
  }
  const { workflow, version } = body.ref;
  const stored = await load(workflow, version);
  if (stored) return { ok: true, body: stored };
  const what = version === undefined ? `workflow ${workflow}` : `workflow ${workflow} version ${version}`;
  return {
    ok: false,
    outcome: failure("subworkflow.workflow_not_found", `${what} does not exist`, { workflow, version }),
  };
}

/** A child's output too large to keep: the error its report turns into. */
export function oversizeOutput(childRunId: string, output: Json | undefined): ErrorData | undefined {
  const size = byteLength(JSON.stringify(output ?? null));
  if (size <= maxChildOutputBytes) return undefined;
  return errorData(
    "context.too_large",
    `child ${childRunId} returned ${size} bytes, over the ${maxChildOutputBytes} bytes a child's output may hold; let its workflow's \`output\` pick less`,
  );
}

/** A loop's expressions see the context plus the iteration (from 1) and the last iteration's output. */
function loopScope(context: JsonObject, index: number, last: Json): JsonObject {
  return { ...context, iteration: index + 1, last };
}

/** Whether the loop ends after iteration `index` returned `output`. */
export async function loopDone(keys: OutputKeys, context: JsonObject, index: number, output: Json): Promise<boolean> {
  return keys.until !== undefined && truthy(await evaluate(keys.until, loopScope(context, index, output)));
}

/** Iteration `index`'s input, from the one before it (`last`). */
export async function loopInput(keys: OutputKeys, context: JsonObject, index: number, last: Json): Promise<Json> {
  if (keys.input === undefined) return { iteration: index + 1, last };
  return toJson(await evaluate(keys.input, loopScope(context, index, last)));
}

/** The step's output, from its children's results in index order. */
export function assembleOutput(
  mode: "map" | "loop" | "subworkflow",
  keys: OutputKeys,
  rows: ChildResult[],
): JsonObject {
  switch (mode) {
    case "map": {
      const results = rows.map((row) => (row.status === "success" ? (row.output ?? null) : null));
      const failures = rows
        .filter((row) => row.status === "failed" || row.status === "cancelled")
        .map((row) => ({ index: row.index, error: toJson(row.error ?? null) }));
      return { [keys.output]: results, ...(keys.failures ? { [keys.failures]: failures } : {}) };
    }
    case "loop":
      return { [keys.output]: { iterations: rows.length, last: rows.at(-1)?.output ?? null } };
    case "subworkflow":
      return { [keys.output]: rows[0]?.output ?? null };
  }
}

function failure(code: ErrorData["code"], message: string, details?: unknown): NodeOutcome {
  return { type: "failure", error: errorData(code, message, details === undefined ? {} : { details }) };
}
