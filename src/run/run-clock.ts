import type { RunEvent } from "../engine/events";
import type { RunState, Timer } from "../engine/state";
import type { RunStorage, ShellTimer } from "./run-storage";
import { isLease, type LeaseTimer } from "./step-dispatch";

/** How long a run may go without the shell checking on it while it has work in flight. */
export const watchIntervalMs = 60_000;

type StoredTimer = Timer | ShellTimer;

export interface ClockDeps {
  /** The object's alarm: one, set to the earliest timer. */
  alarm: Pick<DurableObjectStorage, "getAlarm" | "setAlarm" | "deleteAlarm">;
  storage: RunStorage;
  state(): RunState | undefined;
  /** The watch fired: flush what checkpoints are left. */
  watchFired(): void;
  mailDue(dueBy: number): void;
  leaseExpired(timer: LeaseTimer): void;
  linksDue(dueBy: number): void;
  dispatch(event: RunEvent): void;
}

/**
 * A run's timers and its one alarm: the engine's timers (retry backoff, sleeps, deadlines) and
 * the shell's (the watch, mail, leases, calls to other runs) live in the timers table, and the
 * alarm is kept at the earliest of them.
 */
export class RunClock {
  /** The alarm as this object last set or read it. */
  private alarmAt: number | null = null;
  private watchArmed = false;

  constructor(private readonly deps: ClockDeps) {}

  /** On load, and on the watchdog's poke: the stored alarm, not the one this object last set. */
  async reread(): Promise<void> {
    this.alarmAt = await this.deps.alarm.getAlarm();
  }

  /** On load: whether the watch is among the stored timers. */
  restoreWatch(timers: readonly { kind: string }[]): void {
    this.watchArmed = timers.some((timer) => timer.kind === "watch");
  }

  /** The alarm fired: the time it fired for (its time has come, whatever the clock says; tests fire it early). */
  fired(now: number): number {
    const firedFor = Math.max(now, this.alarmAt ?? 0);
    this.alarmAt = null;
    return firedFor;
  }

  /** A spare with no run: an alarm that deletes it unless a run's timers replace it. */
  armOnce(at: number): void {
    if (this.alarmAt !== null) return;
    this.alarmAt = at;
    void this.deps.alarm.setAlarm(at);
  }

  /** The object's storage is gone (run deleted): no alarm, no watch. */
  forget(): void {
    this.alarmAt = null;
    this.watchArmed = false;
  }

  /** Fires every timer due by `dueBy`, then re-arms the alarm for the rest. */
  fireDue(dueBy: number): void {
    const { storage } = this.deps;
    for (const timer of storage.dueTimers(dueBy) as StoredTimer[]) {
      storage.deleteTimer(timer.id);
      if (timer.kind === "watch") {
        this.watchArmed = false;
        this.deps.watchFired();
      } else if (timer.kind === "mail") this.deps.mailDue(dueBy);
      else if (isLease(timer)) this.deps.leaseExpired(timer);
      else if (timer.kind === "links") this.deps.linksDue(dueBy);
      else this.deps.dispatch({ type: "timer", timer });
    }
    this.reviewWatch();
    this.sync();
  }

  /**
   * One safety timer while the run has work out or checkpoints unflushed; set once, not per step.
   * A waiting run has nothing in flight and its own timers wake it, so its watch is dropped:
   * otherwise the watch, re-armed each minute, would sit in front of a sleep for its whole length.
   */
  reviewWatch(): void {
    const state = this.deps.state();
    if (!state) return;
    const { storage } = this.deps;
    const busy = state.status === "pending" || state.status === "running" || storage.hasUnflushed();
    if (busy === this.watchArmed) return;
    if (busy) storage.setTimer({ id: "watch", at: this.watchAt(Date.now()), kind: "watch" });
    else storage.deleteTimer("watch");
    this.watchArmed = busy;
    this.sync();
  }

  /**
   * When the watch should fire: a watch interval from now, or at the alarm already set if that
   * is at most one more interval later (a spare's). Moving an alarm earlier is written before the
   * commit it belongs to, so the run's first step would wait for it; keeping the one that is
   * there costs nothing.
   */
  private watchAt(now: number): number {
    const at = now + watchIntervalMs;
    const set = this.alarmAt;
    return set !== null && set >= at && set <= at + watchIntervalMs ? set : at;
  }

  /** Keeps the alarm at the earliest stored timer (or none). */
  sync(): void {
    const next = this.deps.storage.nextTimerAt() ?? null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next === null) void this.deps.alarm.deleteAlarm();
    else void this.deps.alarm.setAlarm(next);
  }
}
