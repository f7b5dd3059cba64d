/**
 * Sends a run's due jobs behind it (approval emails, calls to child and parent runs), one pass
 * at a time. A kick while a pass runs joins it and asks for another; a pass that found jobs is
 * followed by another, so jobs added while sending go out too; and each job is tried at most once
 * per kick, so a job rescheduled for its backoff waits for its own timer.
 */
export interface JobSource<Job extends { id: string }> {
  /** Jobs due by `dueBy`, oldest first. */
  due(dueBy: number): Job[];
  /** Sends one pass's jobs; failures are the source's to reschedule. */
  send(jobs: Job[]): Promise<void>;
  /** After the last pass: re-arm or drop the source's timer. */
  idle?(): void;
}

export class JobPump<Job extends { id: string }> {
  private readonly source: JobSource<Job>;
  private running: Promise<void> | undefined;
  private dueBy = 0;
  private again = false;

  constructor(source: JobSource<Job>) {
    this.source = source;
  }

  /** Sends every job due by `dueBy` (a fired alarm's time, which may be ahead of the clock). */
  kick(dueBy: number = Date.now()): Promise<void> {
    this.dueBy = Math.max(this.dueBy, dueBy);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    const tried = new Set<string>();
    do {
      this.again = false;
      // Let the transition that wrote the jobs commit first.
      await Promise.resolve();
      const jobs = this.source.due(Math.max(this.dueBy, Date.now())).filter((job) => !tried.has(job.id));
      for (const job of jobs) tried.add(job.id);
      await this.source.send(jobs);
      if (jobs.length > 0) this.again = true;
    } while (this.again);
    this.source.idle?.();
  }
}
