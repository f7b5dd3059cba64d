import { isTerminalRun, type RunStatus } from "../engine/state";
import type { Env } from "../env";
import { logLine } from "../lib/log";
import { advance } from "./admission";
import type { GateCheck } from "./gate-object";
import { gateStub } from "./gate-stub";
import type { FlowReport, RunFlow } from "./types";

export interface RunGatesHost {
  env: Env;
  sql: SqlStorage;
  runId(): string | undefined;
  status(): RunStatus | undefined;
  /** Every gate has let the run through: it starts. */
  start(): void;
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
      if (index !== flow.admitted) return { ok: index < flow.admitted };
      this.save({ ...flow, admitted: index + 1 });
      await this.next();
      return { ok: true };
    });
  }

  /** A gate's lease check: the run's status and whether it knows it passed that gate. */
  gateCheck(name: string): GateCheck {
    const index = this.flow?.gates.findIndex((gate) => gate.name === name) ?? -1;
    return { status: this.host.status() ?? null, admitted: index !== -1 && index < (this.flow?.admitted ?? 0) };
  }

  /** The run ended: every slot it holds and any place it has in a queue goes back. */
  ended(): void {
    const flow = this.flow;
    if (!flow) return;
    const reached = flow.gates.slice(0, Math.min(flow.admitted + 1, flow.gates.length));
    for (const gate of reached) this.host.track(`flow-release:${gate.name}`, this.releaseOne(gate.name));
  }

  /** The report's flow part; a queued run's place is asked of its gate, which knows it now. */
  async report(): Promise<FlowReport | undefined> {
    const flow = this.flow;
    if (!flow) return undefined;
    const keys = Object.fromEntries(flow.gates.map((gate) => [gate.part, gate.key]));
    const result: FlowReport = { keys, priority: flow.priority };
    if (flow.keyErrors) result.keyErrors = flow.keyErrors;
    const gate = flow.gates[flow.admitted];
    if (!gate || this.host.status() !== "queued") return result;
    const runId = this.host.runId() ?? "";
    const standing = await gateStub(this.host.env, gate.name)
      .standing(runId)
      .catch(() => null);
    const waitingFor =
      standing && !standing.granted
        ? {
            kind: gate.config.kind,
            key: gate.key,
            running: standing.running,
            limit: standing.limit,
            position: standing.position,
          }
        : flow.waitingFor;
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
