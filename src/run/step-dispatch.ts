import { sendingNumber } from "../engine/lease";
import type { Plan } from "../engine/plan";
import type { RunState } from "../engine/state";
import { nodeSpec } from "../nodes/registry";
import type { ExecuteCommand } from "./attempt";

/** The steps queue's message: one dispatched attempt. */
export interface StepMessage {
  runId: string;
  nodeId: string;
  attempt: number;
  idempotencyKey: string;
  /**
   * Which sending of this attempt: the step's interruptions plus resends when it was sent. A
   * lease that ran out sends the attempt again with a higher number, and a message with an older
   * one is stale.
   */
  dispatch: number;
}

/**
 * A dispatched attempt's lease, kept in the run's timers table so it survives a restart and
 * fires from the run's alarm. Until a consumer claims the attempt it covers delivery; a claim
 * extends it to the node's timeout plus a grace period.
 */
export interface LeaseTimer {
  id: string;
  at: number;
  kind: "lease";
  nodeId: string;
  attempt: number;
  dispatch: number;
  claimed: boolean;
}

export type DispatchMode = "queue" | "inline";

/** How long a sent message may take to reach a consumer before the run sends it again. */
export const deliveryLeaseMs = 30_000;
/** What a claimed attempt gets beyond its node's timeout to report its result. */
export const claimGraceMs = 10_000;
/**
 * After this many lost messages for one attempt the queue is not reaching a consumer: the run
 * executes the attempt in its own object rather than send it again.
 */
export const resendsBeforeInline = 5;
/** Cloudflare Queues takes at most 100 messages per sendBatch. */
const sendBatchLimit = 100;

export function dispatchMode(value: unknown, queue: Queue | undefined): DispatchMode {
  return value === "inline" || queue === undefined ? "inline" : "queue";
}

export function leaseId(nodeId: string, attempt: number): string {
  return `lease:${nodeId}:${attempt}`;
}

export function isLease(timer: { kind: string }): timer is LeaseTimer {
  return timer.kind === "lease";
}

/**
 * Which ready attempts go through the queue: only when two or more that do outside work are
 * ready together. A lone one, and every pure node, runs inside the run's object: a sequential
 * step must not pay for a hop through a queue.
 */
export function splitReady(
  plan: Plan,
  mode: DispatchMode,
  ready: readonly ExecuteCommand[],
  state?: RunState,
): { inline: ExecuteCommand[]; queued: ExecuteCommand[] } {
  if (mode === "inline") return { inline: [...ready], queued: [] };
  const queued: ExecuteCommand[] = [];
  const inline: ExecuteCommand[] = [];
  for (const command of ready) {
    const type = plan.nodes[command.nodeId]?.type;
    const lost = state?.steps[command.nodeId]?.resends ?? 0;
    // Compensations run in the run's own object: a rollback is rare, and its leases would be the step's.
    if (command.compensate) inline.push(command);
    else if (type !== undefined && nodeSpec(type)?.dispatch === "queue" && lost < resendsBeforeInline)
      queued.push(command);
    else inline.push(command);
  }
  if (queued.length < 2) return { inline: [...ready], queued: [] };
  return { inline, queued };
}

export interface LeaseStore {
  setTimer(timer: LeaseTimer): void;
  deleteTimer(id: string): void;
}

/**
 * The run's dispatched attempts, one per node at most (a node runs one attempt at a time),
 * mirrored in memory from their lease timers. Every change to a lease is a write to the
 * timers table in the caller's synchronous stretch, so it commits with the transition.
 */
export class Leases {
  private readonly byNode = new Map<string, LeaseTimer>();
  private readonly store: LeaseStore;

  constructor(store: LeaseStore) {
    this.store = store;
  }

  /** From the stored timers, when the run's object starts. */
  restore(timers: readonly { kind: string }[]): void {
    for (const timer of timers) if (isLease(timer)) this.byNode.set(timer.nodeId, timer);
  }

  /** Attempts a consumer has claimed: across a restart they stay with their lease. */
  claimedNodes(): string[] {
    return [...this.byNode.values()].filter((lease) => lease.claimed).map((lease) => lease.nodeId);
  }

  /** Attempts sent but never claimed: across a restart their messages may be gone. */
  unclaimedNodes(): string[] {
    return [...this.byNode.values()].filter((lease) => !lease.claimed).map((lease) => lease.nodeId);
  }

  has(nodeId: string): boolean {
    return this.byNode.has(nodeId);
  }

  get size(): number {
    return this.byNode.size;
  }

  /** Leases for attempts about to be sent; returns their messages. */
  open(runId: string, state: RunState, commands: readonly ExecuteCommand[], now: number): StepMessage[] {
    return commands.map((command) => {
      const step = state.steps[command.nodeId];
      const dispatch = step ? sendingNumber(step) : 0;
      this.put({
        id: leaseId(command.nodeId, command.attempt),
        at: now + deliveryLeaseMs,
        kind: "lease",
        nodeId: command.nodeId,
        attempt: command.attempt,
        dispatch,
        claimed: false,
      });
      return {
        runId,
        nodeId: command.nodeId,
        attempt: command.attempt,
        idempotencyKey: command.idempotencyKey,
        dispatch,
      };
    });
  }

  /** The lease a message's claim must match: same attempt, same sending. */
  matching(message: { nodeId: string; attempt: number; dispatch: number }): LeaseTimer | undefined {
    const lease = this.byNode.get(message.nodeId);
    return lease && lease.attempt === message.attempt && lease.dispatch === message.dispatch ? lease : undefined;
  }

  /** A consumer took the attempt: it has the node's timeout and a grace period to report. */
  claim(lease: LeaseTimer, timeoutMs: number, now: number): void {
    this.put({ ...lease, at: now + timeoutMs + claimGraceMs, claimed: true });
  }

  /** Drops the lease of a node, if it covers `attempt` (any attempt when omitted). Returns whether one went. */
  release(nodeId: string, attempt?: number): boolean {
    const lease = this.byNode.get(nodeId);
    if (!lease || (attempt !== undefined && lease.attempt !== attempt)) return false;
    this.byNode.delete(nodeId);
    this.store.deleteTimer(lease.id);
    return true;
  }

  /** After a transition: leases of steps that moved on (a result, a cancel, a failed run) go. */
  prune(state: RunState, changedSteps: readonly string[]): boolean {
    if (this.byNode.size === 0) return false;
    let dropped = false;
    for (const nodeId of changedSteps) {
      const lease = this.byNode.get(nodeId);
      const step = state.steps[nodeId];
      if (lease && (step?.status !== "running" || step.attempts !== lease.attempt)) {
        dropped = this.release(nodeId) || dropped;
      }
    }
    return dropped;
  }

  /** A lease timer fired: forget it (the timer row is already gone). */
  expired(lease: LeaseTimer): void {
    const current = this.byNode.get(lease.nodeId);
    if (current?.id === lease.id && current.dispatch === lease.dispatch) this.byNode.delete(lease.nodeId);
  }

  private put(lease: LeaseTimer): void {
    this.byNode.set(lease.nodeId, lease);
    this.store.setTimer(lease);
  }
}

/** Sends messages in chunks sendBatch accepts. */
export async function sendSteps(queue: Queue, messages: readonly StepMessage[]): Promise<void> {
  for (let start = 0; start < messages.length; start += sendBatchLimit) {
    const chunk = messages.slice(start, start + sendBatchLimit);
    await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
  }
}
