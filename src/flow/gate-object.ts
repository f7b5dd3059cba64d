import { DurableObject } from "cloudflare:workers";
import { isTerminalRun, type RunStatus } from "../engine/state";
import type { Env } from "../env";
import { parseDuration } from "../lib/duration";
import { logLine } from "../lib/log";
import { runStub } from "../triggers/start-run";
import { type DebounceAnswer, type DebounceInput, DebounceStore } from "./debounce";
import { GateStore } from "./gate-store";
import type { GateApi } from "./gate-stub";
import { type Rate, rateOf, take } from "./gcra";
import type { AcquireResult, GateConfig, SingletonResult, WaitingFor } from "./types";

const defaultLeaseMs = 60_000;
/** Expired leases looked at per alarm; the rest wait for the next one, set at once. */
const checksPerAlarm = 50;

export interface AcquireInput {
  runId: string;
  priority: number;
  config: GateConfig;
}

/** What a run answers about a gate when the gate checks on a lease (src/flow/run-gates.ts). */
export interface GateCheck {
  /** The run's status, or null when its object holds no run (never created, or deleted). */
  status: string | null;
  /** Whether the run knows it was let through this gate. */
  admitted: boolean;
}

/**
 * One gate per workflow, flow part and key value: the slots it has granted (each a lease), the
 * runs waiting in order, and a GCRA bucket for throttles. A run's own end gives its slot back;
 * a lease that runs out makes the gate ask the run, so a run that crashed mid-grant, was
 * cancelled or deleted gives its slot back too, and one that never heard of its grant hears
 * again. A slot is granted to one run at a time: the grant and the queue are one SQLite commit.
 */
export class GateObject extends DurableObject<Env> implements GateApi {
  private readonly store: GateStore;
  private readonly debounced: DebounceStore;
  private readonly leaseMs: number;
  /** This gate's name (runs are told which gate let them through); kept for alarms. */
  private name: string;
  private alarmAt: number | undefined;
  /** Replaceable in tests, to drive buckets and leases without waiting for them. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new GateStore(ctx.storage.sql);
    this.debounced = new DebounceStore(ctx.storage.sql);
    this.leaseMs = parseDuration(env.FLOW_SLOT_LEASE ?? "") ?? defaultLeaseMs;
    this.name = this.store.name() ?? "";
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = (await ctx.storage.getAlarm()) ?? undefined;
    });
  }

  /** Lets the run through now, or queues it and says where it stands. Asking again is safe. */
  async acquire(name: string, input: AcquireInput): Promise<AcquireResult> {
    this.name = name;
    const now = this.clock();
    const before = this.store.config();
    this.store.setConfig(name, input.config);
    // A new version's limits: runs already waiting keep their place and go first if they now fit.
    if (before && JSON.stringify(before) !== JSON.stringify(input.config)) await this.deliver(this.pump(now));
    if (this.store.slot(input.runId)) return { granted: true };
    const known = this.store.position(input.runId);
    if (known !== undefined) return this.queuedAnswer(input.config, known);
    if (this.store.queued === 0 && this.grantNow(input.config, input.runId, now)) return { granted: true };
    const position = this.store.enqueue(input.runId, input.priority, now);
    if (input.config.kind === "throttle") this.arm(this.throttleRetryAt(input.config, now));
    return this.queuedAnswer(input.config, position);
  }

  /** A run ended (or was cancelled while queued): its slot or its place is given up, and the next go. */
  async release(runId: string): Promise<{ released: boolean }> {
    const released = this.store.free(runId) || this.store.dequeue(runId);
    await this.deliver(this.pump(this.clock()));
    return { released };
  }

  /**
   * `flow.singleton`: lets the run in if no run holds the key; otherwise skips it, or (mode
   * `cancel`) takes the slot from the active run and cancels that run. The slot changes hands in
   * one commit; the cancel follows (the old run's own end then finds its slot gone).
   */
  async claimSingle(name: string, input: { runId: string; config: GateConfig }): Promise<SingletonResult> {
    this.name = name;
    const now = this.clock();
    this.store.setConfig(name, input.config);
    if (this.store.slot(input.runId)) return { granted: true };
    const active = this.store.snapshot().running[0];
    if (active !== undefined && input.config.kind === "singleton" && input.config.mode === "skip") {
      return { granted: false, activeRunId: active };
    }
    if (active !== undefined) this.store.free(active);
    this.grantNow(input.config, input.runId, now);
    if (active === undefined) return { granted: true };
    await runStub(this.env, active)
      .cancel("replaced by a newer run of its key (flow.singleton)")
      .catch((thrown: unknown) =>
        logLine("warn", "singleton could not cancel the run it replaced", { runId: active, error: String(thrown) }),
      );
    return { granted: true, replaced: active };
  }

  /** Whether the run holds a slot here: one key lookup, however long the queue. */
  async holds(runId: string): Promise<{ granted: boolean }> {
    return { granted: this.store.slot(runId) !== undefined };
  }

  /** Where a run stands here: let through, or waiting (for a queued run's report). */
  async standing(runId: string): Promise<AcquireResult | null> {
    const config = this.store.config();
    if (!config) return null;
    if (this.store.slot(runId)) return { granted: true };
    const position = this.store.position(runId);
    return position === undefined ? null : this.queuedAnswer(config, position);
  }

  /** A rate limit: takes one trigger from the bucket, or refuses it (nothing is queued). */
  async takeRate(name: string, rate: Rate): Promise<{ ok: boolean; retryAt?: number }> {
    this.name = name;
    const result = take(rate, this.store.tat(), this.clock());
    if (!result.ok) return { ok: false, retryAt: result.retryAt };
    this.store.setTat(result.tat);
    return { ok: true };
  }

  /**
   * `flow.debounce`: the trigger joins its key's open window (or opens one under its own run
   * id); the window's run starts with the last trigger's input once the key is quiet.
   */
  async debounce(name: string, input: DebounceInput): Promise<DebounceAnswer> {
    this.name = name;
    const answer = this.debounced.add(input, this.clock());
    this.arm(answer.startsAt);
    return answer;
  }

  /** Who holds a slot and who waits, in order (the API and tests). */
  async snapshot(): Promise<{ config: GateConfig | null; running: string[]; waiting: string[]; debouncing?: string }> {
    const debouncing = this.debounced.open();
    return { config: this.store.config() ?? null, ...this.store.snapshot(), ...(debouncing ? { debouncing } : {}) };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const now = this.clock();
    await this.debounced.fire(this.env, now);
    const checks = await Promise.all(this.store.expired(now, checksPerAlarm).map((slot) => this.check(slot.runId)));
    const redeliver: string[] = [];
    for (const { runId, answer } of checks) {
      if (answer === undefined) {
        // The run could not be reached: ask again at the next lease.
        this.store.renew(runId, now + this.leaseMs);
      } else if (answer.status === null || isTerminalRun(answer.status as RunStatus)) {
        this.store.free(runId);
      } else if (answer.admitted && this.store.config()?.kind === "throttle") {
        this.store.free(runId);
      } else {
        this.store.renew(runId, now + this.leaseMs);
        if (!answer.admitted) redeliver.push(runId);
      }
    }
    await this.deliver([...redeliver, ...this.pump(now)]);
    this.arm(this.nextAlarm(now));
  }

  private async check(runId: string): Promise<{ runId: string; answer: GateCheck | undefined }> {
    try {
      return { runId, answer: await runStub(this.env, runId).gateCheck(this.name) };
    } catch (thrown) {
      logLine("warn", "gate could not check on a run", { runId, gate: this.name, error: String(thrown) });
      return { runId, answer: undefined };
    }
  }

  /** Grants what the limits allow to the runs at the head of the queue; answers who got in. */
  private pump(now: number): string[] {
    const config = this.store.config();
    if (!config) return [];
    const granted: string[] = [];
    for (let runId = this.store.next(); runId !== undefined; runId = this.store.next()) {
      if (!this.grantNow(config, runId, now)) break;
      this.store.dequeue(runId);
      // A throttle's start holds nothing, but its delivery is leased like a slot until the run
      // has heard of it: a grant lost in a crash is sent again, never lost with the run queued.
      if (config.kind === "throttle") {
        this.store.grant(runId, now, now + this.leaseMs);
        this.arm(now + this.leaseMs);
      }
      granted.push(runId);
    }
    if (config.kind === "throttle" && this.store.queued > 0) this.arm(this.throttleRetryAt(config, now));
    return granted;
  }

  /** One grant if the limit allows it: a slot with a lease, or a start taken from the bucket. */
  private grantNow(config: GateConfig, runId: string, now: number): boolean {
    if (config.kind !== "throttle") {
      if (this.store.running >= config.limit) return false;
      this.store.grant(runId, now, now + this.leaseMs);
      this.arm(now + this.leaseMs);
      return true;
    }
    const result = take(rateOf(config.limit, config.periodMs, config.burst), this.store.tat(), now);
    if (!result.ok) return false;
    this.store.setTat(result.tat);
    return true;
  }

  private throttleRetryAt(config: Extract<GateConfig, { kind: "throttle" }>, now: number): number {
    const result = take(rateOf(config.limit, config.periodMs, config.burst), this.store.tat(), now);
    return result.ok ? now : result.retryAt;
  }

  /** Tells each run it was let through; one that does not hear is asked again when its lease runs out. */
  private async deliver(runIds: string[]): Promise<void> {
    const throttle = this.store.config()?.kind === "throttle";
    await Promise.all(
      runIds.map((runId) =>
        runStub(this.env, runId)
          .admit(this.name)
          .then((answer) => {
            if (throttle && answer.ok) this.store.free(runId);
          })
          .catch((thrown: unknown) =>
            logLine("warn", "gate could not tell a run it may start", {
              runId,
              gate: this.name,
              error: String(thrown),
            }),
          ),
      ),
    );
  }

  private nextAlarm(now: number): number | undefined {
    const lease = this.store.nextLease();
    const config = this.store.config();
    const throttle =
      config?.kind === "throttle" && this.store.queued > 0 ? this.throttleRetryAt(config, now) : undefined;
    const times = [lease, throttle, this.debounced.nextAt()].filter((at): at is number => at !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Sets the alarm when nothing earlier is set: leases only grow, so most grants set nothing. */
  private arm(at: number | undefined): void {
    if (at === undefined || (this.alarmAt !== undefined && this.alarmAt <= at)) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  private queuedAnswer(config: GateConfig, position: number): AcquireResult {
    const limit = config.limit;
    return { granted: false, running: config.kind === "throttle" ? 0 : this.store.running, limit, position };
  }
}

export type { WaitingFor };
