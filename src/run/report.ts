import type { Plan } from "../engine/plan";
import type { RunState } from "../engine/state";
import type { JsonObject } from "../lib/json";

export interface StepReport {
  nodeId: string;
  type: string;
  status: string;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  error: unknown;
  output: unknown;
  inputVersion: number | null;
  contextVersion: number | null;
  history: RunState["steps"][string]["history"];
}

export interface ExecutionReport {
  runId: string;
  workflowId: string;
  version: number;
  status: string;
  trigger: unknown;
  input: unknown;
  context: JsonObject;
  contextVersion: number;
  error: unknown;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  endedAt: number | null;
  steps: StepReport[];
  contextVersions: { version: number; nodeId: string | null; createdAt: number }[];
}

export function buildReport(
  plan: Plan,
  state: RunState,
  context: JsonObject,
  contextVersions: ExecutionReport["contextVersions"],
): ExecutionReport {
  const steps: StepReport[] = [];
  for (const nodeId of plan.order) {
    const step = state.steps[nodeId];
    if (!step) continue;
    steps.push({
      nodeId,
      type: step.type,
      status: step.status,
      attempts: step.attempts,
      startedAt: step.startedAt ?? null,
      endedAt: step.endedAt ?? null,
      durationMs: step.startedAt !== undefined && step.endedAt !== undefined ? step.endedAt - step.startedAt : null,
      error: step.error ?? null,
      output: step.output ?? null,
      inputVersion: step.inputVersion ?? null,
      contextVersion: step.contextVersion ?? null,
      history: step.history,
    });
  }
  return {
    runId: state.runId,
    workflowId: state.workflowId,
    version: state.version,
    status: state.status,
    trigger: context.trigger ?? null,
    input: context.input ?? null,
    context,
    contextVersion: state.contextVersion,
    error: state.error ?? null,
    createdAt: state.createdAt,
    startedAt: state.startedAt ?? null,
    updatedAt: state.updatedAt,
    endedAt: state.endedAt ?? null,
    steps,
    contextVersions,
  };
}
