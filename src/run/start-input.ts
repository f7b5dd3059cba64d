import { type ParentLink, type RunState, runDepth } from "../engine/state";
import { initialRunState } from "../engine/transition";
import type { RunFlow } from "../flow/types";
import type { Json, JsonObject } from "../lib/json";
import { type LoadedPlan, loadPlan } from "./plans";

/** What starts a run in its object: from a trigger (src/triggers/start-run.ts) or a parent step. */
export interface StartInput {
  runId: string;
  workflowId: string;
  version: number;
  definition: unknown;
  input: Json;
  trigger: { type: string; id: string | null; receivedAt: number };
  /** A child run (map item, loop iteration, subworkflow call): the step it reports to. */
  parent?: ParentLink;
  /** A child of a run whose workflow marks sensitive data: the child seals everything it holds. */
  inheritSensitive?: true;
  /** The flow-control gates the trigger asked (src/flow): a run one of them queued starts `queued`. */
  flow?: RunFlow;
}

/**
 * A new run's plan, its state before the first event, and its context v0. `publicUrl` is where
 * this Signalbox answers (src/lib/public-url.ts): definitions build links to their own
 * webhooks from `run.publicUrl`.
 */
export function newRun(
  input: StartInput,
  now: number,
  publicUrl: string,
): { loaded: LoadedPlan; state: RunState; initial: JsonObject } {
  const loaded = loadPlan(input.workflowId, input.version, input.definition);
  const state: RunState = {
    ...initialRunState(loaded.plan, { runId: input.runId, createdAt: now }),
    ...(input.parent ? { parent: input.parent } : {}),
  };
  const lineage: JsonObject = input.parent ? { parentRunId: input.parent.runId } : {};
  const initial: JsonObject = {
    input: input.input,
    trigger: input.trigger,
    run: {
      id: input.runId,
      workflowId: input.workflowId,
      version: input.version,
      depth: runDepth(state),
      publicUrl,
      ...lineage,
    },
  };
  return { loaded, state, initial };
}
