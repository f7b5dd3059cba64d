import { isCompensating } from "../engine/compensation";
import type { NodeResult, RunEvent } from "../engine/events";
import { isTerminalRun, type RunState } from "../engine/state";
import type { Env } from "../env";
import { toErrorData } from "../errors";
import type { JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { type AttemptJob, type AttemptResult, attemptJob, type ExecuteCommand } from "./attempt";
import type { LoadedPlan } from "./plans";
import {
  type DispatchMode,
  dispatchMode,
  type LeaseStore,
  Leases,
  type LeaseTimer,
  type StepMessage,
  sendSteps,
  splitReady,
} from "./step-dispatch";

export interface ClaimInput {
  nodeId: string;
  attempt: number;
  dispatch: number;
}

interface Shell {
  env: Env;
  /** The steps queue; replaceable in tests. */
  queue(): Queue | undefined;
  state(): RunState | undefined;
  loaded(): LoadedPlan | undefined;
  /** The run's context as it was at `version` (an attempt reads the version it started on). */
  contextAt(version: number): Readonly<JsonObject>;
  store: LeaseStore;
  dispatch(event: RunEvent): void;
  /** Starts attempts in the run's own object, bypassing the queue. */
  runInline(commands: readonly ExecuteCommand[]): void;
  syncAlarm(): void;
  track(key: string, task: Promise<void>): void;
  /** A result that the run took: its span is recorded like an inline attempt's. */
  recordSpan(result: AttemptResult): void;
  notifyIdle(): void;
}

/**
 * The run's side of queue dispatch (docs/architecture.md#parallel-steps): which ready attempts
 * leave through the steps queue, their leases, and the claim and completion RPCs consumers call.
 */
export class DispatchedSteps {
  private readonly shell: Shell;
  private readonly leases: Leases;
  private sends = 0;
  /**
   * The context each sent attempt started on, kept so a claim hands over what an inline attempt
   * would have read, not what its siblings wrote since. After a restart it is rebuilt on claim.
   */
  private readonly contexts = new Map<string, { attempt: number; context: Readonly<JsonObject> }>();

  constructor(shell: Shell) {
    this.shell = shell;
    this.leases = new Leases(shell.store);
  }

  private get mode(): DispatchMode {
    return dispatchMode(this.shell.env.PARALLEL_DISPATCH, this.shell.queue());
  }

  /** Attempts out on a lease: `idle()` waits for their results too. */
  get outstanding(): number {
    return this.leases.size;
  }

  restore(timers: readonly { kind: string }[]): void {
    this.leases.restore(timers);
  }

  /**
   * What a restart tells the engine: attempts a consumer claimed stay with their lease; those
   * sent but never claimed are sent again (their messages may be lost), without counting.
   */
  resumeEvent(): Extract<RunEvent, { type: "resume" }> {
    const leased = this.leases.claimedNodes();
    const unclaimed = this.leases.unclaimedNodes();
    return {
      type: "resume",
      ...(leased.length > 0 ? { leased } : {}),
      ...(unclaimed.length > 0 ? { unclaimed } : {}),
    };
  }

  /** Sends the ready attempts that go through the queue; returns those the object runs itself. */
  route(ready: readonly ExecuteCommand[]): ExecuteCommand[] {
    const state = this.shell.state();
    const loaded = this.shell.loaded();
    if (!state || !loaded) return [...ready];
    const { inline, queued } = splitReady(loaded.plan, this.mode, ready, state);
    // An attempt that runs here now is no longer out: a lease of an earlier sending must not fire.
    for (const command of inline) this.leases.release(command.nodeId, command.attempt);
    if (queued.length > 0) this.send(state, queued);
    this.shell.syncAlarm();
    return inline;
  }

  private send(state: RunState, commands: readonly ExecuteCommand[]): void {
    const queue = this.shell.queue();
    if (!queue) return;
    const messages = this.leases.open(state.runId, state, commands, Date.now());
    for (const command of commands) {
      const version = state.steps[command.nodeId]?.inputVersion ?? state.contextVersion;
      this.contexts.set(command.nodeId, { attempt: command.attempt, context: this.shell.contextAt(version) });
    }
    this.sends += 1;
    this.shell.track(
      `send#${this.sends}`,
      sendSteps(queue, messages).catch((thrown) => this.sendFailed(messages, commands, thrown)),
    );
  }

  /** The queue would not take them: run them here rather than wait for their leases. */
  private sendFailed(messages: readonly StepMessage[], commands: readonly ExecuteCommand[], thrown: unknown): void {
    logLine("error", "could not send steps to the queue; running them in the run", {
      runId: this.shell.state()?.runId,
      count: messages.length,
      error: toErrorData(thrown),
    });
    const still = commands.filter((command, index) => {
      const message = messages[index] as StepMessage;
      return this.leases.matching(message) !== undefined && this.leases.release(command.nodeId, command.attempt);
    });
    this.shell.syncAlarm();
    this.shell.runInline(still);
  }

  /**
   * A consumer asks for a dispatched attempt. Null when the message is stale (the attempt has
   * its result, was sent again since, or the run has ended) and when another consumer holds the
   * attempt under a live lease: a redelivery of the message (a consumer that died after
   * claiming, a message delivered twice) must not run the attempt a second time beside it. If
   * the holder never reports, its lease runs out and the attempt is sent again as an interruption.
   */
  claim(input: ClaimInput): AttemptJob | null {
    const state = this.shell.state();
    const loaded = this.shell.loaded();
    if (!state || !loaded || isTerminalRun(state.status)) return null;
    const step = state.steps[input.nodeId];
    const lease = this.leases.matching(input);
    const node = loaded.plan.nodes[input.nodeId];
    if (!step || !lease || !node || step.status !== "running" || step.attempts !== input.attempt) return null;
    if (lease.claimed && lease.at > Date.now()) {
      logLine("info", "claim refused: a consumer holds the attempt under a live lease", {
        runId: state.runId,
        nodeId: input.nodeId,
        attempt: input.attempt,
        dispatch: input.dispatch,
        leaseUntil: lease.at,
      });
      return null;
    }
    const command: ExecuteCommand = {
      type: "execute",
      nodeId: input.nodeId,
      attempt: input.attempt,
      idempotencyKey: `${state.runId}:${input.nodeId}:${input.attempt}`,
      timeoutMs: node.timeoutMs,
    };
    this.leases.claim(lease, node.timeoutMs, Date.now());
    this.shell.syncAlarm();
    const kept = this.contexts.get(input.nodeId);
    const context =
      kept?.attempt === input.attempt ? kept.context : this.shell.contextAt(step.inputVersion ?? state.contextVersion);
    return attemptJob(this.shell.env, loaded, state, context, command) ?? null;
  }

  /**
   * Results from consumers. A result for an attempt that is not running any more (a duplicate,
   * a late one after the attempt was sent again and finished) changes nothing.
   */
  complete(results: readonly AttemptResult[]): { accepted: boolean }[] {
    const applied: NodeResult[] = [];
    const taken = new Set<string>();
    const state = this.shell.state();
    const answers = results.map((result) => {
      const step = state?.steps[result.nodeId];
      // A result sent twice in one batch counts once.
      // While the run rolls back, an attempt it cut off may still report: its effect is undone too.
      const late = step?.status === "cancelled" && state !== undefined && isCompensating(state);
      const accepted =
        (step?.status === "running" || late) && step?.attempts === result.attempt && !taken.has(result.nodeId);
      if (!accepted) return { accepted };
      taken.add(result.nodeId);
      this.leases.release(result.nodeId, result.attempt);
      this.contexts.delete(result.nodeId);
      this.shell.recordSpan(result);
      applied.push({ nodeId: result.nodeId, attempt: result.attempt, outcome: result.outcome });
      return { accepted };
    });
    // One transition for the whole batch: one commit, one pass over the run's steps.
    if (applied.length > 0) this.shell.dispatch({ type: "node-results", results: applied });
    return answers;
  }

  /** After every transition: leases of steps that moved on are dropped in the same commit. */
  prune(state: RunState, changedSteps: readonly string[]): void {
    if (!this.leases.prune(state, changedSteps)) return;
    for (const nodeId of this.contexts.keys()) if (!this.leases.has(nodeId)) this.contexts.delete(nodeId);
    this.shell.notifyIdle();
  }

  /**
   * A lease timer came due (its row is already deleted): send the attempt again. Unclaimed, its
   * message never reached a consumer (a resend); claimed, the consumer went quiet (an interruption).
   */
  expired(lease: LeaseTimer): void {
    this.leases.expired(lease);
    // A retry onto another version may have dropped the node: nothing is left to send.
    if (!this.shell.state()?.steps[lease.nodeId]) return;
    logLine("warn", "lease expired without a result; dispatching the attempt again", {
      runId: this.shell.state()?.runId,
      nodeId: lease.nodeId,
      attempt: lease.attempt,
      dispatch: lease.dispatch,
      claimed: lease.claimed,
      counted: lease.claimed ? "interruption" : "resend",
    });
    this.shell.dispatch({
      type: "lease-expired",
      nodeId: lease.nodeId,
      attempt: lease.attempt,
      claimed: lease.claimed,
    });
    this.shell.notifyIdle();
  }

  /**
   * The message of this sending went to the dead-letter queue: its consumers kept failing. The
   * lease is ended now rather than at its time, so the attempt is sent again: as an interruption
   * if a consumer had claimed it (failing the step once it has been cut short too often), as a
   * resend if none ever did.
   */
  deadLettered(input: ClaimInput): { expired: boolean } {
    const lease = this.leases.matching(input);
    logLine("error", "step message dead-lettered", {
      runId: this.shell.state()?.runId,
      nodeId: input.nodeId,
      attempt: input.attempt,
      dispatch: input.dispatch,
      current: lease !== undefined,
    });
    if (!lease) return { expired: false };
    this.shell.store.deleteTimer(lease.id);
    this.expired(lease);
    return { expired: true };
  }
}
