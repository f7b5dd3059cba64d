import { toErrorData } from "../errors";
import { writeCheckpoints } from "../store/checkpoints";
import type { RunStorage } from "./run-storage";

const batchSize = 100;
/**
 * The longest checkpoints wait while the run is busy. A run that goes idle (nothing in flight:
 * ended, sleeping, awaiting a person) is flushed at once, so a short run costs one D1 batch and
 * D1 work never competes with a chain of steps for the isolate's thread.
 */
export const maxFlushDelayMs = 500;

export interface CheckpointerDeps {
  storage: RunStorage;
  d1: D1Database;
  waitUntil(task: Promise<unknown>): void;
  /** Called when a flush ends, flushed or not: the run re-checks its watch timer and idleness. */
  settled(): void;
  log(level: string, message: string, fields: Record<string, unknown>): void;
}

/**
 * Moves a run's outbox to D1 behind the run: steps never wait for it, and the rows of many
 * steps go out in one batch. A failed flush leaves the rows for the watch timer to retry.
 */
export class Checkpointer {
  private readonly deps: CheckpointerDeps;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dueAt = 0;
  private release: (() => void) | undefined;
  private flushing: Promise<void> | undefined;

  constructor(deps: CheckpointerDeps) {
    this.deps = deps;
  }

  /** True while a flush is due or out. */
  get busy(): boolean {
    return this.timer !== undefined || this.flushing !== undefined;
  }

  /** Flushes at the next turn when the run is idle, else within `maxFlushDelayMs`. */
  schedule(idle: boolean): void {
    if (!this.deps.storage.hasUnflushed()) return;
    const delay = idle ? 0 : maxFlushDelayMs;
    const dueAt = Date.now() + delay;
    if (this.timer !== undefined) {
      if (this.dueAt <= dueAt) return;
      clearTimeout(this.timer);
      this.release?.();
    }
    this.dueAt = dueAt;
    this.deps.waitUntil(
      new Promise<void>((resolve) => {
        this.release = resolve;
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.release = undefined;
          this.flushNow().then(resolve, resolve);
        }, delay);
      }),
    );
  }

  private flushNow(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      this.deps.settled();
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const { storage } = this.deps;
    while (storage.hasUnflushed()) {
      const rows = storage.outbox(batchSize);
      if (rows.length === 0) return;
      try {
        await writeCheckpoints(
          this.deps.d1,
          rows.map((row) => row.entry),
        );
      } catch (thrown) {
        this.deps.log("warn", "checkpoint flush failed", { error: toErrorData(thrown) });
        return;
      }
      storage.acknowledge(rows);
    }
  }
}
