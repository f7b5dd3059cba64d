import type { Command } from "./events";
import type { Plan } from "./plan";
import type { RunState, StepState } from "./state";

/**
 * Copy-on-write working state for one transition: the input state is never mutated, and
 * every step touched is recorded so the shell persists exactly those.
 */
export class Draft {
  readonly plan: Plan;
  readonly now: number;
  readonly commands: Command[] = [];
  private readonly base: RunState;
  private run: RunState;
  private readonly steps: Record<string, StepState>;
  private readonly touched = new Set<string>();
  private runTouched = false;

  constructor(plan: Plan, state: RunState, now: number) {
    this.plan = plan;
    this.now = now;
    this.base = state;
    this.run = state;
    this.steps = { ...state.steps };
  }

  get state(): RunState {
    return this.run;
  }

  step(nodeId: string): StepState {
    const step = this.steps[nodeId];
    if (!step) throw new Error(`no step ${nodeId} in run ${this.base.runId}`);
    return step;
  }

  updateStep(nodeId: string, patch: Partial<StepState>): StepState {
    const next = { ...this.step(nodeId), ...patch };
    this.steps[nodeId] = next;
    this.touched.add(nodeId);
    return next;
  }

  updateRun(patch: Partial<Omit<RunState, "steps">>): void {
    this.run = { ...this.run, ...patch };
    this.runTouched = true;
  }

  emit(command: Command): void {
    this.commands.push(command);
  }

  allSteps(): StepState[] {
    return Object.values(this.steps);
  }

  finish() {
    const changed = this.runTouched || this.touched.size > 0;
    if (!changed) return { state: this.base, commands: this.commands, changedSteps: [], changed };
    const state: RunState = { ...this.run, steps: this.steps, updatedAt: this.now };
    return { state, commands: this.commands, changedSteps: [...this.touched], changed };
  }
}
