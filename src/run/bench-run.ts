import type { Command, Transition } from "../engine/events";
import type { AttemptRecord, RunState, StepState } from "../engine/state";
import { errorData } from "../errors";
import type { JsonObject } from "../lib/json";
import type { RunStorage } from "./run-storage";
import { newRun, type StartInput } from "./start-input";

/** What `npm run bench` asks for: a run of a registered workflow, written as if it had run. */
export interface BenchRunInput extends StartInput {
  /** Attempts per step: every one before the last failed, then the step succeeded. */
  attemptsPerStep: number;
}

const attemptMs = 4;
const backoffMs = 20;

/**
 * A finished run of every node of the plan, in plan order, each step with `attemptsPerStep`
 * attempts (the failures with an error and a backoff gap before the next), one context version
 * per step. Only the benchmark writes such a run (src/routes/bench.ts, behind the BENCH var):
 * it measures the run's page and its JSON report at a size no test would wait for a run to reach.
 */
export function writeBenchRun(storage: RunStorage, input: BenchRunInput, now: number, publicUrl: string): void {
  const { loaded, state, initial } = newRun(input, now, publicUrl);
  const setup = { definition: input.definition, triggerType: input.trigger.type };
  storage.create(setup, state, initial);
  const steps: Record<string, StepState> = {};
  const commands: Command[] = [];
  let clock = now + 1;
  let version = 0;
  for (const nodeId of loaded.plan.order) {
    const node = loaded.plan.nodes[nodeId];
    if (!node) continue;
    const startedAt = clock;
    const history: AttemptRecord[] = [];
    for (let attempt = 1; attempt <= input.attemptsPerStep; attempt++) {
      const last = attempt === input.attemptsPerStep;
      history.push({
        attempt,
        startedAt: clock,
        endedAt: clock + attemptMs,
        outcome: last ? "success" : "failure",
        inputVersion: version,
        ...(last ? {} : { error: errorData("node.http_status", "503 from upstream", { retryable: true }) }),
      });
      clock += attemptMs + (last ? 1 : backoffMs);
    }
    const output: JsonObject = { [`out_${nodeId}`]: version };
    version += 1;
    commands.push({ type: "write-context", version, nodeId, patch: output });
    steps[nodeId] = {
      nodeId,
      type: node.type,
      status: "success",
      attempts: input.attemptsPerStep,
      interruptions: 0,
      startedAt,
      endedAt: clock - 1,
      inputVersion: version - 1,
      contextVersion: version,
      output,
      history,
    };
  }
  const ended: RunState = {
    ...state,
    status: "success",
    startedAt: now,
    updatedAt: clock,
    endedAt: clock,
    contextVersion: version,
    steps,
  };
  const transition: Transition = { state: ended, commands, changedSteps: Object.keys(steps), changed: true };
  storage.persist(transition, setup.triggerType);
}
