import type { Command, RunEvent, Transition } from "../engine/events";
import type { Plan } from "../engine/plan";
import type { RunState } from "../engine/state";
import { transition } from "../engine/transition";
import { deepFreeze, type JsonObject } from "../lib/json";

/**
 * One run's loop, the same for a durable run (src/run/run-object.ts) and a dry run
 * (src/run/dry-run.ts): every event goes through the pure engine here, every command the
 * engine returns is carried out here through one table typed over the command union, and the
 * ready attempts are driven from here. What a command does to the world is a port: a durable
 * run plugs in its SQLite, alarm, steps queue, mail jobs and child-run links; a dry run plugs
 * in memory, a virtual clock and mocks.
 */

export type ExecuteCommand = Extract<Command, { type: "execute" }>;
export type CommandOf<K extends Command["type"]> = Extract<Command, { type: K }>;
export type ChildCommand = CommandOf<"start-child" | "cancel-children" | "collect-children">;

/** One transition's worth of command effects, finished once after its last command. */
export interface Turn {
  readonly state: RunState;
  readonly now: number;
  /** A timer was set or cleared, or a review's mail changed the reminders: the alarm is due a sync. */
  timers: boolean;
  /** Mail jobs were written. */
  mail: boolean;
  /** Calls to other runs (child starts and cancels, a report to the parent) were written. */
  links: boolean;
}

export interface LoopPorts {
  clock: {
    now(): number;
    setTimer(command: CommandOf<"set-timer">): void;
    clearTimer(command: CommandOf<"clear-timer">): void;
  };
  storage: {
    /** False while the run is not fully in place (no setup yet): events change nothing. */
    ready(): boolean;
    /** The transition's writes: the durable point of a run is this call's commit. */
    persist(result: Transition): void;
    /** A new context version, after the loop applied its patch to its own view. */
    contextWritten(command: CommandOf<"write-context">, turn: Turn): void;
    ended(command: CommandOf<"run-ended">, turn: Turn): void;
  };
  attempts: {
    /** The attempts to run here; the rest are sent elsewhere (the steps queue). */
    route(ready: ExecuteCommand[]): ExecuteCommand[];
    /** Runs one attempt and dispatches its outcome. */
    run(command: ExecuteCommand): Promise<void>;
    /** Attempts sent elsewhere whose results have not come back. */
    outstanding(): number;
    /** An attempt run here ended (with `idle` when nothing else is running or ready). */
    ended(idle: boolean): void;
  };
  children: { command(command: ChildCommand, turn: Turn): void };
  mail: { requestReview(command: CommandOf<"request-review">, turn: Turn): void };
  events: { awaitEvent(command: CommandOf<"await-event">, turn: Turn): void };
  /** After each transition's commands: kick what they queued, sync the alarm, let checkpoints out. */
  settle(turn: Turn): void;
  /**
   * Whether to hold the event instead of applying this transition of it (flow control: a run
   * that gave its slots back while waiting goes on only once its gates let it through again).
   * A held event changes nothing now; its holder dispatches it again later.
   */
  hold?(event: RunEvent, result: Transition): boolean;
  /** Work the loop keeps on its books: its host keeps the invocation alive for it. */
  keepAlive(task: Promise<void>): void;
  /** Background work that failed (logged; the job behind it is retried by its owner). */
  failed(key: string, thrown: unknown): void;
  /** Writes still on their way out (checkpoints): `settled` waits for them too. */
  busy(): boolean;
}

type CommandHandlers = { [K in Command["type"]]: (loop: RunLoop, command: CommandOf<K>, turn: Turn) => void };

const commands: CommandHandlers = {
  execute: (loop, command) => loop.enqueue(command),
  "write-context": (loop, command, turn) => {
    loop.context = Object.freeze({ ...loop.context, ...deepFreeze(command.patch) });
    loop.ports.storage.contextWritten(command, turn);
  },
  "set-timer": (loop, command, turn) => {
    loop.ports.clock.setTimer(command);
    turn.timers = true;
  },
  "clear-timer": (loop, command, turn) => {
    loop.ports.clock.clearTimer(command);
    turn.timers = true;
  },
  "run-ended": (loop, command, turn) => loop.ports.storage.ended(command, turn),
  "request-review": (loop, command, turn) => {
    loop.ports.mail.requestReview(command, turn);
    turn.timers = true;
  },
  "await-event": (loop, command, turn) => loop.ports.events.awaitEvent(command, turn),
  "start-child": (loop, command, turn) => loop.ports.children.command(command, turn),
  "cancel-children": (loop, command, turn) => loop.ports.children.command(command, turn),
  "collect-children": (loop, command, turn) => loop.ports.children.command(command, turn),
};

function carryOut(loop: RunLoop, command: Command, turn: Turn): void {
  // The table is typed per command type; indexing it by a union loses that pairing, hence the one cast.
  (commands[command.type] as (loop: RunLoop, command: Command, turn: Turn) => void)(loop, command, turn);
}

/** The run's key for an attempt in flight in its own loop. */
export function attemptKey(command: { nodeId: string; attempt: number; compensate?: boolean }): string {
  return command.compensate ? `${command.nodeId}#undo${command.attempt}` : `${command.nodeId}#${command.attempt}`;
}

export class RunLoop {
  readonly ports: LoopPorts;
  state: RunState | undefined;
  plan: Plan | undefined;
  /** The context as stored (a durable run's large values as references). */
  context: JsonObject = {};
  private readonly queue: ExecuteCommand[] = [];
  private readonly inflight = new Map<string, Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(ports: LoopPorts) {
    this.ports = ports;
  }

  enqueue(command: ExecuteCommand): void {
    this.queue.push(command);
  }

  /** Feeds one event through the engine and carries out what it asks for. */
  dispatch(event: RunEvent): void {
    if (!this.state || !this.plan || !this.ports.storage.ready()) return;
    const now = this.ports.clock.now();
    const result = transition(this.plan, this.state, event, now);
    if (!result.changed || this.ports.hold?.(event, result)) return;
    this.state = result.state;
    this.ports.storage.persist(result);
    const turn: Turn = { state: result.state, now, timers: false, mail: false, links: false };
    for (const command of result.commands) carryOut(this, command, turn);
    this.ports.settle(turn);
  }

  /**
   * Starts every queued attempt; each completion feeds the engine and drives again. With
   * `inline`, every attempt runs here; otherwise the attempts port may send some elsewhere.
   */
  drive(inline = false): void {
    if (this.queue.length === 0) return;
    const ready = this.queue.splice(0);
    const here = inline
      ? ready
      : this.ports.attempts.route(ready.filter((command) => !this.inflight.has(attemptKey(command))));
    for (const command of here) {
      const key = attemptKey(command);
      if (this.inflight.has(key)) continue;
      const task = this.ports.attempts.run(command).finally(() => {
        this.inflight.delete(key);
        this.drive();
        this.ports.attempts.ended(this.isIdle());
        this.notifyIdle();
      });
      this.inflight.set(key, task);
      this.ports.keepAlive(task);
    }
  }

  /** Runs these attempts here, whatever the attempts port would route (a lost queue message). */
  runInline(commands: readonly ExecuteCommand[]): void {
    this.queue.push(...commands);
    this.drive(true);
  }

  /** Keeps a background task on the books, so `settled` waits for it. */
  track(key: string, task: Promise<void>): void {
    if (this.inflight.has(key)) return;
    const tracked = task
      .catch((thrown) => this.ports.failed(key, thrown))
      .finally(() => {
        this.inflight.delete(key);
        this.notifyIdle();
      });
    this.inflight.set(key, tracked);
    this.ports.keepAlive(tracked);
  }

  /**
   * Nothing executing or about to, here or sent elsewhere: the moment to let checkpoints out.
   * (While a fan-out is out, each result's transition would otherwise flush at once and
   * compete with the results still coming in.)
   */
  isIdle(): boolean {
    return this.inflight.size === 0 && this.queue.length === 0 && this.ports.attempts.outstanding() === 0;
  }

  /** Resolves once nothing is in flight here and no writes are on their way out; with `sent`, nothing sent elsewhere either. */
  async settled(sent: boolean): Promise<void> {
    while (this.inflight.size > 0 || this.ports.busy() || (sent && this.ports.attempts.outstanding() > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  notifyIdle(): void {
    if (this.inflight.size > 0 || this.ports.busy()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
