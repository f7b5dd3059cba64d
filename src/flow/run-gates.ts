import type { RunEvent, Transition } from "../engine/events";
import { isTerminalRun, type RunState, type RunStatus } from "../engine/state";
import type { Env } from "../env";
import { logLine } from "../lib/log";
import { advance } from "./admission";
import type { GateCheck } from "./gate-object";
import { gateStub } from "./gate-stub";
import type { AwayFlow, FlowReport, GateRef, RunFlow, WaitingFor } from "./types";

export interface RunGatesHost {
  env: Env;
  sql: SqlStorage;
  runId(): string | undefined;
  status(): RunStatus | undefined;
  /** Every gate has let the run through: it starts. */
  start(): void;
  /** Every gate given back has let the run through again: the events held meanwhile go on, in order. */
  replay(events: RunEvent[]): void;
  track(key: string, task: Promise<void>): void;
}

/**
 * A run's side of its gates (src/flow/gate-object.ts): which it has passed, being let through
 * the next, and giving every slot and place back when it ends. Kept in the run's `meta` table
 * beside its setup; a run with no `flow` has none and this does nothing.
 */
export class RunGates {
  private readonly host: RunGatesHost;
  private flow: RunFlow | undefined;
  /** Grants are taken one at a time: each may ask the next gate before the next grant is looked at. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Background tasks are kept under distinct keys: a give-back must not be dropped as a repeat of one in flight. */
  private tasks = 0;

  constructor(host: RunGatesHost) {
    this.host = host;
  }

  /** A queued run waits for a gate; it does not start until the last one lets it through. */
  get waiting(): boolean {
    return this.flow !== undefined && this.flow.admitted < this.flow.gates.length;
  }

  load(): void {
    const row = this.host.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'flow'").toArray()[0];
    this.flow = row ? (JSON.parse(row.value) as RunFlow) : undefined;
  }

  forget(): void {
    this.flow = undefined;
  }

  /**
   * The run's flow as the trigger left it, written in the run's creating commit. A queued run asks
   * its gate once more: a grant that came before this object held the run was not heard.
   */
  create(flow: RunFlow | undefined): void {
    if (!flow) return;
    this.save(flow);
    if (this.waiting)
      this.host.track(
        "flow",
        this.serial(() => this.recheck()),
      );
  }

  /** A gate let the run through: on to the next, or start. A grant the run no longer needs goes back. */
  admit(name: string): Promise<{ ok: boolean }> {
    return this.serial(async () => {
      const flow = this.flow;
      const status = this.host.status();
      const index = flow?.gates.findIndex((gate) => gate.name === name) ?? -1;
      if (!flow || index === -1 || status === undefined) return { ok: false };
      if (isTerminalRun(status)) {
        this.host.track(`flow-release:${name}`, this.releaseOne(name));
        return { ok: false };
      }
      const away = flow.away?.gates.indexOf(name) ?? -1;
      if (flow.away && away !== -1) return this.admitAway(flow.away, name, away);
      if (index !== flow.admitted) return { ok: index < flow.admitted };
      this.save({ ...flow, admitted: index + 1 });
      await this.next();
      return { ok: true };
    });
  }

  /** A gate's lease check: the run's status and whether it knows it passed that gate. */
  gateCheck(name: string): GateCheck {
    const status = this.host.status() ?? null;
    const away = this.flow?.away;
    const given = away?.gates.indexOf(name) ?? -1;
    if (away && given !== -1) return { status, admitted: given < away.admitted };
    const index = this.flow?.gates.findIndex((gate) => gate.name === name) ?? -1;
    return { status, admitted: index !== -1 && index < (this.flow?.admitted ?? 0) };
  }

  /** The run ended: every slot it holds and any place it has in a queue goes back. */
  ended(): void {
    const flow = this.flow;
    if (!flow) return;
    if (flow.away) this.save({ ...flow, away: undefined });
    // Every gate, not only those reached: a grant answered while the run ended is given back too
    // (a release where the run holds nothing changes nothing). In turn with the gates' other
    // calls, so a retry right after asks them again only once these are back.
    this.later(
      "flow-release",
      this.serial(async () => {
        await Promise.all(flow.gates.map((gate) => this.releaseOne(gate.name)));
      }),
    );
  }

  /**
   * After each transition: a started run that now only waits (a sleep, an event, a person,
   * children) gives back the slots of its concurrency gates without `holdWhileWaiting`, in
   * one turn with the transition that made it wait. The run's own next step is `hold`.
   */
  settled(state: RunState): void {
    const flow = this.flow;
    if (!flow || flow.away || flow.admitted < flow.gates.length || !onlyWaiting(state)) return;
    const given = flow.gates.filter(givesBack).map((gate) => gate.name);
    if (given.length === 0) return;
    this.save({ ...flow, away: { gates: given, admitted: 0, held: [] } });
    this.later(
      "flow-give-back",
      this.serial(async () => {
        await Promise.all(given.map((name) => this.releaseOne(name)));
      }),
    );
  }

  /**
   * An event for a run that gave its slots back: one that would set it running again (a timer,
   * an event, a decision or a child's end that completes its wait) is held, and the run asks its
   * gates again; it goes on once they let it through. Anything else (a reminder, a cancel, a
   * child's end that leaves the step waiting) goes through as usual.
   */
  hold(event: RunEvent, result: Transition): boolean {
    const flow = this.flow;
    const away = flow?.away;
    if (!flow || !away || result.state.status !== "running") return false;
    this.save({ ...flow, away: { ...away, held: [...away.held, event] } });
    if (away.held.length === 0)
      this.later(
        "flow-return",
        this.serial(() => this.askAgain()),
      );
    return true;
  }

  /**
   * A retry of a gated run: it passes its gates again from the first, like a new start (its end
   * gave every slot back). Answers whether it has gates; the retry is then dispatched queued.
   */
  requeue(): boolean {
    const flow = this.flow;
    if (!flow || flow.gates.length === 0) return false;
    const { waitingFor: _before, away: _away, ...rest } = flow;
    this.save({ ...rest, admitted: 0 });
    return true;
  }

  /** Asks the gates of a queued run (a retry just requeued); it starts once all let it through. */
  pass(): Promise<void> {
    return this.serial(() => this.next());
  }

  /** Whether an event for this step's wait is held already: another event is buffered for a later wait, not lost. */
  waitHeld(nodeId: string, attempt: number): boolean {
    const held = this.flow?.away?.held ?? [];
    return held.some((event) => event.type === "event" && event.nodeId === nodeId && event.attempt === attempt);
  }

  /** After a restart: a run that was asking its gates again asks once more (asking twice is safe). */
  restore(): void {
    const away = this.flow?.away;
    if (away && away.held.length > 0)
      this.later(
        "flow-return",
        this.serial(() => this.askAgain()),
      );
  }

  /** The report's flow part; a queued run's place is asked of its gate, which knows it now. */
  async report(): Promise<FlowReport | undefined> {
    const flow = this.flow;
    if (!flow) return undefined;
    const keys = Object.fromEntries(flow.gates.map((gate) => [gate.part, gate.key]));
    const result: FlowReport = { keys, priority: flow.priority };
    if (flow.keyErrors) result.keyErrors = flow.keyErrors;
    if (flow.away) return this.reportAway(flow, flow.away, result);
    const gate = flow.gates[flow.admitted];
    if (!gate || this.host.status() !== "queued") return result;
    const waitingFor = await this.waitingAt(gate, flow.waitingFor);
    if (waitingFor) result.waitingFor = waitingFor;
    return result;
  }

  /**
   * Whether the slot the run waits for was granted before its object held the run (the grant's
   * `admit` then found nothing). A key lookup at the gate, not a queue scan: a burst of queued
   * runs costs the gate the same per run however long its queue is.
   */
  private async recheck(): Promise<void> {
    const flow = this.flow;
    const runId = this.host.runId();
    const gate = flow?.gates[flow.admitted];
    if (!flow || !runId || !gate) return;
    const { granted } = await gateStub(this.host.env, gate.name).holds(runId);
    if (!granted || this.host.status() !== "queued" || this.flow?.admitted !== flow.admitted) return;
    this.save({ ...flow, admitted: flow.admitted + 1 });
    await this.next();
  }

  /** Asks the gates from the first not yet passed; starts the run once all let it through. */
  private async next(): Promise<void> {
    const flow = this.flow;
    const runId = this.host.runId();
    if (!flow || !runId || this.host.status() !== "queued") return;
    const moved = await advance(this.host.env, runId, flow);
    // A cancel while the gate answered: the run's end gives back whatever was granted.
    if (this.host.status() !== "queued") return;
    this.save(moved);
    if (!this.waiting) this.host.start();
  }

  /** A gate given back let the run through again: on to the next, or go on. A grant it did not ask for goes back. */
  private async admitAway(away: AwayFlow, name: string, index: number): Promise<{ ok: boolean }> {
    if (away.held.length === 0) {
      this.later("flow-release", this.releaseOne(name));
      return { ok: false };
    }
    if (index !== away.admitted) return { ok: index < away.admitted };
    const flow = this.flow as RunFlow;
    this.save({ ...flow, away: { ...away, admitted: index + 1 } });
    await this.askAgain();
    return { ok: true };
  }

  /** Asks the gates given back, from the first not yet passed; the run goes on once all let it through. */
  private async askAgain(): Promise<void> {
    const runId = this.host.runId();
    for (;;) {
      const flow = this.flow;
      const away = flow?.away;
      const status = this.host.status();
      if (!flow || !away || !runId || away.held.length === 0 || status === undefined || isTerminalRun(status)) return;
      const name = away.gates[away.admitted];
      const gate = flow.gates.find((entry) => entry.name === name);
      if (name === undefined || !gate) {
        // Cleared first: the held events then go through, and the run may give its slots back again.
        this.save({ ...flow, away: undefined });
        this.host.replay(away.held);
        return;
      }
      const answer = await gateStub(this.host.env, name).acquire(name, {
        runId,
        priority: flow.priority,
        config: gate.config,
      });
      const now = this.flow;
      // Ended, or moved on by an admit meanwhile: the run's end or that admit takes it from here.
      if (!now?.away || now.away.admitted !== away.admitted || isTerminalRun(this.host.status() ?? "cancelled")) return;
      if (!answer.granted) {
        const { running, limit, position } = answer;
        const waitingFor: WaitingFor = { kind: gate.config.kind, key: gate.key, running, limit, position };
        this.save({ ...now, away: { ...now.away, waitingFor } });
        return;
      }
      const { waitingFor: _passed, ...rest } = now.away;
      this.save({ ...now, away: { ...rest, admitted: away.admitted + 1 } });
    }
  }

  private async reportAway(flow: RunFlow, away: AwayFlow, result: FlowReport): Promise<FlowReport> {
    const parts = flow.gates.filter((gate) => away.gates.includes(gate.name)).map((gate) => gate.part);
    const resuming = away.held.length > 0;
    const report: FlowReport = { ...result, released: { parts, resuming } };
    const name = away.gates[away.admitted];
    const gate = flow.gates.find((entry) => entry.name === name);
    if (!resuming || !gate) return report;
    const waitingFor = await this.waitingAt(gate, away.waitingFor);
    return waitingFor ? { ...report, waitingFor } : report;
  }

  /** Where the run stands in the gate's queue, asked of the gate; what was last known if it cannot say. */
  private async waitingAt(gate: GateRef, known: WaitingFor | undefined): Promise<WaitingFor | undefined> {
    const standing = await gateStub(this.host.env, gate.name)
      .standing(this.host.runId() ?? "")
      .catch(() => null);
    if (!standing || standing.granted) return known;
    const { running, limit, position } = standing;
    return { kind: gate.config.kind, key: gate.key, running, limit, position };
  }

  private later(key: string, task: Promise<unknown>): void {
    this.tasks += 1;
    this.host.track(
      `${key}#${this.tasks}`,
      task.then(() => undefined),
    );
  }

  private async releaseOne(name: string): Promise<void> {
    const runId = this.host.runId();
    if (!runId) return;
    try {
      await gateStub(this.host.env, name).release(runId);
    } catch (thrown) {
      // The gate's lease check finds the run ended and frees the slot then.
      logLine("warn", "run could not give its slot back", { runId, gate: name, error: String(thrown) });
    }
  }

  private save(flow: RunFlow): void {
    this.flow = flow;
    this.host.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('flow', ?)", JSON.stringify(flow));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.turn.then(task, task);
    this.turn = run.catch(() => undefined);
    return run;
  }
}

/** A concurrency slot the run gives back while it only waits (unless the entry holds it). */
function givesBack(gate: GateRef): boolean {
  return gate.config.kind === "concurrency" && gate.holdWhileWaiting !== true;
}

/**
 * Whether the run only waits for the world: no step runs (the engine's `waiting` or
 * `needs_review`), and none is between attempts of a retry (a backoff is work under way) or
 * collecting its children's results (the run's own work, a moment away).
 */
export function onlyWaiting(state: RunState): boolean {
  if (state.paused || (state.status !== "waiting" && state.status !== "needs_review")) return false;
  return Object.values(state.steps).every(
    (step) => step.status !== "waiting" || (step.retryAt === undefined && step.children?.phase !== "collecting"),
  );
}
