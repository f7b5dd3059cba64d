import type { RunEvent } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import { type ParentLink, type RunState, runDepth } from "../engine/state";
import { type ErrorData, errorData, toErrorData } from "../errors";
import { evaluate, truthy } from "../expr/jsonata";
import { byteLength } from "../lib/blob-ref";
import { type Json, type JsonObject, toJson } from "../lib/json";
import { inlineDefinition, isInline } from "../nodes/body";
import { nodeSpec } from "../nodes/registry";
import { maxChildOutputBytes, maxRunLevels } from "./children";
import type { ChildBody } from "./children-store";
import type { LoadedPlan } from "./plans";
import type { ChildCommand, ExecuteCommand } from "./run-loop";

/** How a child run ended, as it reports to its parent. */
export interface ChildEnd {
  status: "success" | "failed" | "cancelled";
  output?: Json;
  error?: ErrorData;
}

/** What a dry run's children need of the run that starts them. */
export interface DryChildHost {
  state(): RunState;
  loaded(): LoadedPlan;
  /** The context with every value in it (a dry run keeps no references). */
  context(): JsonObject;
  /** A stored version of a workflow a subworkflow calls (absent: none can be found). */
  loadWorkflow?(workflowId: string, version?: number): Promise<ChildBody | undefined>;
  /** Runs the body as a child dry run, with the parent's mocks, to its end. */
  runChild(body: ChildBody, input: Json, parent: ParentLink): Promise<ChildEnd>;
  /** The step output as it would be stored, or the error that stops it (the context's size limit). */
  storedOutput(nodeId: string, output: JsonObject): ErrorData | undefined;
  dispatch(event: RunEvent): void;
  drive(): void;
  track(key: string, task: Promise<void>): void;
}

interface Row {
  index: number;
  status: "pending" | "running" | "success" | "failed" | "cancelled";
  input?: Json;
  output?: Json;
  error?: ErrorData;
}

interface ChildSet {
  body: ChildBody;
  inputs: Json[];
  rows: Map<number, Row>;
}

interface OutputKeys {
  output: string;
  failures?: string;
  until?: string;
  input?: string;
}

/**
 * A dry run's child runs, in memory: the same body resolution, depth limit, inputs, loop
 * condition and output assembly as a durable run's (src/run/children.ts), with each child a
 * dry run of its own under the same mocks instead of a Durable Object reached through jobs.
 */
export class DryChildren {
  private readonly host: DryChildHost;
  private readonly sets = new Map<string, ChildSet>();

  constructor(host: DryChildHost) {
    this.host = host;
  }

  /** Resolves what a spawning step's children run; the outcome the engine sees has no inputs. */
  async prepare(command: ExecuteCommand, outcome: Extract<NodeOutcome, { type: "spawn" }>): Promise<NodeOutcome> {
    const state = this.host.state();
    const loaded = this.host.loaded();
    const node = loaded.plan.nodes[command.nodeId];
    const body = node && nodeSpec(node.type)?.body?.(loaded.configs[node.id]);
    if (!body) return failure("node.failed", `${command.nodeId} names nothing to run as children`);
    const level = runDepth(state);
    if (level + 1 > maxRunLevels) {
      return failure(
        "subworkflow.depth_exceeded",
        `runs nest at most ${maxRunLevels} levels deep; this run is level ${level}`,
        {
          level,
          maxLevels: maxRunLevels,
        },
      );
    }
    let resolved: ChildBody | undefined;
    if (isInline(body.ref)) {
      resolved = {
        workflowId: `${state.workflowId}/${command.nodeId}`,
        version: state.version,
        definition: inlineDefinition(body.ref),
      };
    } else {
      const { workflow, version } = body.ref;
      resolved = await this.host.loadWorkflow?.(workflow, version);
      if (!resolved) {
        const what = version === undefined ? `workflow ${workflow}` : `workflow ${workflow} version ${version}`;
        return failure("subworkflow.workflow_not_found", `${what} does not exist`, { workflow, version });
      }
    }
    const { inputs, ...rest } = outcome;
    this.sets.set(key(command.nodeId, command.attempt), { body: resolved, inputs: inputs ?? [], rows: new Map() });
    return rest;
  }

  command(command: ChildCommand): void {
    const set = this.sets.get(key(command.nodeId, command.attempt));
    if (!set) return;
    switch (command.type) {
      case "start-child": {
        const row: Row = { index: command.index, status: "running" };
        set.rows.set(command.index, row);
        this.host.track(`child:${command.nodeId}:${command.attempt}:${command.index}`, this.start(command, set, row));
        return;
      }
      case "cancel-children":
        for (const index of command.indices) {
          const row = set.rows.get(index);
          if (row?.status === "running") row.status = "cancelled";
        }
        return;
      case "collect-children":
        this.host.track(
          `collect:${command.nodeId}:${command.attempt}`,
          Promise.resolve().then(() => this.collect(command.nodeId, command.attempt, set)),
        );
        return;
    }
  }

  private async start(command: { nodeId: string; attempt: number; index: number }, set: ChildSet, row: Row) {
    const state = this.host.state();
    let end: ChildEnd;
    let done: boolean | undefined;
    try {
      const input = set.inputs[command.index] ?? (await this.loopInput(command.nodeId, set, command.index));
      row.input = input;
      const parent: ParentLink = { ...command, runId: state.runId, depth: runDepth(state) + 1 };
      end = await this.host.runChild(set.body, input, parent);
      const size = end.status === "success" ? byteLength(JSON.stringify(end.output ?? null)) : 0;
      if (size > maxChildOutputBytes) {
        end = {
          status: "failed",
          error: errorData(
            "context.too_large",
            `a child returned ${size} bytes, over the ${maxChildOutputBytes} bytes a child's output may hold; let its workflow's \`output\` pick less`,
          ),
        };
      }
      if (end.status === "success" && this.host.state().steps[command.nodeId]?.children?.mode === "loop") {
        const until = this.keys(command.nodeId).until;
        done = until !== undefined && truthy(await evaluate(until, this.loopScope(command.index, end.output ?? null)));
      }
    } catch (thrown) {
      end = { status: "failed", error: toErrorData(thrown, "node.expression_failed") };
    }
    // Cancelled while it ran: the step no longer waits for it.
    if (row.status !== "running") return;
    row.status = end.status;
    if (end.output !== undefined) row.output = end.output;
    if (end.error) row.error = end.error;
    this.host.dispatch({
      type: "child-ended",
      nodeId: command.nodeId,
      attempt: command.attempt,
      index: command.index,
      status: end.status,
      ...(end.error ? { error: end.error } : {}),
      ...(done !== undefined ? { done } : {}),
    });
    this.host.drive();
  }

  private collect(nodeId: string, attempt: number, set: ChildSet): void {
    const rows = [...set.rows.values()].sort((a, b) => a.index - b.index);
    const step = this.host.state().steps[nodeId];
    const keys = this.keys(nodeId);
    let output: JsonObject;
    switch (step?.children?.mode) {
      case "map": {
        const results = rows.map((row) => (row.status === "success" ? (row.output ?? null) : null));
        const failures = rows
          .filter((row) => row.status === "failed" || row.status === "cancelled")
          .map((row) => ({ index: row.index, error: toJson(row.error ?? null) }));
        output = { [keys.output]: results, ...(keys.failures ? { [keys.failures]: failures } : {}) };
        break;
      }
      case "loop":
        output = { [keys.output]: { iterations: rows.length, last: rows.at(-1)?.output ?? null } };
        break;
      default:
        output = { [keys.output]: rows[0]?.output ?? null };
    }
    const error = this.host.storedOutput(nodeId, output);
    this.host.dispatch({ type: "children-collected", nodeId, attempt, ...(error ? { error } : { output }) });
    this.host.drive();
  }

  private keys(nodeId: string): OutputKeys {
    const config = this.host.loaded().configs[nodeId];
    return isOutputKeys(config) ? config : { output: nodeId };
  }

  /** A loop's expressions see the context plus the iteration (from 1) and the last iteration's output. */
  private loopScope(index: number, last: Json): JsonObject {
    return { ...this.host.context(), iteration: index + 1, last };
  }

  private async loopInput(nodeId: string, set: ChildSet, index: number): Promise<Json> {
    const last = index === 0 ? null : (set.rows.get(index - 1)?.output ?? null);
    const source = this.keys(nodeId).input;
    if (source === undefined) return { iteration: index + 1, last };
    return toJson(await evaluate(source, this.loopScope(index, last)));
  }
}

function isOutputKeys(config: unknown): config is OutputKeys {
  return typeof config === "object" && config !== null && typeof (config as { output?: unknown }).output === "string";
}

function key(nodeId: string, attempt: number): string {
  return `${nodeId}#${attempt}`;
}

function failure(code: ErrorData["code"], message: string, details?: unknown): NodeOutcome {
  return { type: "failure", error: errorData(code, message, details === undefined ? {} : { details }) };
}
