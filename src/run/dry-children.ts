import type { RunEvent } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import { type ParentLink, type RunState, runDepth } from "../engine/state";
import { type ErrorData, toErrorData } from "../errors";
import { childRunId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import {
  assembleOutput,
  type ChildResult,
  type LoadWorkflow,
  loopDone,
  loopInput,
  type OutputKeys,
  outputKeys,
  oversizeOutput,
  resolveBody,
} from "./child-steps";
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
  loadWorkflow?: LoadWorkflow;
  /** Runs the body as a child dry run, with the parent's mocks, to its end. */
  runChild(body: ChildBody, input: Json, parent: ParentLink): Promise<ChildEnd>;
  /** The step output as it would be stored, or the error that stops it (the context's size limit). */
  storedOutput(nodeId: string, output: JsonObject): ErrorData | undefined;
  dispatch(event: RunEvent): void;
  drive(): void;
  track(key: string, task: Promise<void>): void;
}

type Row = ChildResult & { input?: Json };

interface ChildSet {
  body: ChildBody;
  inputs: Json[];
  rows: Map<number, Row>;
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
    const resolved = await resolveBody(
      this.host.state(),
      this.host.loaded(),
      command.nodeId,
      this.host.loadWorkflow ?? (async () => undefined),
    );
    if (!resolved.ok) return resolved.outcome;
    const { inputs, ...rest } = outcome;
    this.sets.set(key(command.nodeId, command.attempt), { body: resolved.body, inputs: inputs ?? [], rows: new Map() });
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
      const { nodeId, attempt, index } = command;
      const parent: ParentLink = { runId: state.runId, nodeId, attempt, index, depth: runDepth(state) + 1 };
      end = await this.host.runChild(set.body, input, parent);
      const childId = childRunId(state.runId, nodeId, attempt, index);
      const oversize = end.status === "success" ? oversizeOutput(childId, end.output) : undefined;
      if (oversize) end = { status: "failed", error: oversize };
      if (end.status === "success" && this.host.state().steps[command.nodeId]?.children?.mode === "loop") {
        done = await loopDone(this.keys(command.nodeId), this.host.context(), command.index, end.output ?? null);
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
    const output = assembleOutput(step?.children?.mode ?? "subworkflow", keys, rows);
    const error = this.host.storedOutput(nodeId, output);
    this.host.dispatch({ type: "children-collected", nodeId, attempt, ...(error ? { error } : { output }) });
    this.host.drive();
  }

  private keys(nodeId: string): OutputKeys {
    return outputKeys(this.host.loaded(), nodeId);
  }

  private loopInput(nodeId: string, set: ChildSet, index: number): Promise<Json> {
    const last = index === 0 ? null : (set.rows.get(index - 1)?.output ?? null);
    return loopInput(this.keys(nodeId), this.host.context(), index, last);
  }
}

function key(nodeId: string, attempt: number): string {
  return `${nodeId}#${attempt}`;
}
