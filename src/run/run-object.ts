import { DurableObject } from "cloudflare:workers";
import type { EmailPort } from "../adapters/email";
import type { Command, RunEvent } from "../engine/events";
import { isTerminalRun, type RunState } from "../engine/state";
import { initialRunState, transition } from "../engine/transition";
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import type { GateCheck } from "../flow/gate-object";
import { RunGates } from "../flow/run-gates";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { publicUrl } from "../lib/public-url";
import type { LlmPort } from "../llm/types";
import type { AttemptJob, AttemptResult } from "./attempt";
import type { Checkpointer } from "./checkpointer";
import type { ChildReport, Children } from "./children";
import type { ClaimInput, DispatchedSteps } from "./dispatched-steps";
import type { EventWaits } from "./event-inbox";
import type { EventDelivery } from "./human-loop-api";
import { attemptKey, type InlineAttemptHost, runInlineAttempt } from "./inline-attempt";
import { type LiveContext, readContext, storedResults } from "./live-context";
import type { Mailer } from "./mailer";
import type { OperationResult, ReplaySeed, ReplayStart, RetryInput, RetryResult, RunOperations } from "./operations";
import { type LoadedPlan, loadPlan } from "./plans";
import { buildReport, type ExecutionReport, reportOutput } from "./report";
import {
  type DecideInput,
  type DecideResult,
  decisionEvent,
  describeReview,
  type ReviewInfo,
  type ReviewQuery,
} from "./reviews";
import type { RunClock } from "./run-clock";
import { buildRunParts, type RunShell } from "./run-parts";
import { type RunSetup, RunStorage } from "./run-storage";
import type { SpanLog } from "./spans";
import { newRun, type StartInput } from "./start-input";

export type { StartInput };

/**
 * One run's shell: owns its storage, alarm and in-flight work, and feeds every event through
 * the pure engine. Node attempts that are ready run back to back inside one invocation; the
 * durable point of each is this object's SQLite commit, and D1 checkpoints follow behind.
 */
export class RunObject extends DurableObject<Env> {
  private readonly storage: RunStorage;
  private setup: RunSetup | undefined;
  private loaded: LoadedPlan | undefined;
  private state: RunState | undefined;
  /** The stored context (large values as references); `blobs` holds it resolved. */
  private context: JsonObject = {};
  private readonly blobs: LiveContext;
  private readonly queue: Extract<Command, { type: "execute" }>[] = [];
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly checkpoints: Checkpointer;
  private idleWaiters: (() => void)[] = [];
  private readonly mailer: Mailer;
  private readonly events: EventWaits;
  private readonly operations: RunOperations;
  private readonly spans: SpanLog;
  private readonly children: Children;
  private readonly clock: RunClock;
  private readonly inline: InlineAttemptHost;
  /** Replaceable in tests (a failing adapter); chosen from the environment otherwise. */
  emailPort: EmailPort | undefined;
  /** Model providers for llm nodes; replaceable in tests, from the environment otherwise. */
  llmPort: LlmPort | undefined;
  /** Where parallel io attempts are sent; replaceable in tests, the STEPS_QUEUE binding otherwise. */
  stepsQueue: Queue | undefined;
  private readonly steps: DispatchedSteps;
  /** Flow control: the gates this run passes before it starts and gives back when it ends. */
  private readonly gates: RunGates;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new RunStorage(ctx.storage.sql);
    const parts = buildRunParts(this.shell());
    this.blobs = parts.blobs;
    this.spans = parts.spans;
    this.checkpoints = parts.checkpoints;
    this.events = parts.events;
    this.mailer = parts.mailer;
    this.operations = parts.operations;
    this.steps = parts.steps;
    this.children = parts.children;
    this.clock = parts.clock;
    this.inline = {
      env,
      state: () => this.state,
      loaded: () => this.loaded,
      llm: () => this.llmPort,
      blobs: this.blobs,
      children: this.children,
      spans: this.spans,
      dispatch: (event) => this.dispatch(event),
    };
    this.gates = new RunGates({
      env,
      sql: ctx.storage.sql,
      runId: () => this.state?.runId,
      status: () => this.state?.status,
      start: () => {
        this.dispatch({ type: "start" });
        this.drive();
      },
      track: (key, task) => this.track(key, task),
    });
    void ctx.blockConcurrencyWhile(async () => {
      await this.clock.reread();
      this.load();
    });
  }

  /** What this object's parts see of it (src/run/run-parts.ts). */
  private shell(): RunShell {
    return {
      env: this.env,
      ctx: this.ctx,
      storage: this.storage,
      state: () => this.state,
      loaded: () => this.loaded,
      setup: () => this.setup,
      install: (loaded, setup, state, context) => {
        this.loaded = loaded;
        this.setup = setup;
        this.state = state;
        if (context) this.context = context;
      },
      contextAt: (version) => this.contextAtVersion(version),
      dispatch: (event) => this.dispatch(event),
      drive: (inline) => this.drive(inline),
      runInline: (commands) => {
        this.queue.push(...commands);
        this.drive(true);
      },
      track: (key, task) => this.track(key, task),
      syncAlarm: () => this.clock.sync(),
      reviewWatch: () => this.clock.reviewWatch(),
      notifyIdle: () => this.notifyIdle(),
      emailPort: () => this.emailPort,
      stepsQueue: () => this.stepsQueue,
      log: logLine,
    };
  }

  private load(): void {
    this.setup = this.storage.loadSetup();
    const stored = this.storage.loadState();
    if (!this.setup || !stored) return;
    this.gates.load();
    this.loaded = loadPlan(stored.workflowId, stored.version, this.setup.definition);
    const pending = initialRunState(this.loaded.plan, { runId: stored.runId, createdAt: stored.createdAt }).steps;
    this.state = { ...stored, steps: { ...pending, ...stored.steps } };
    // The nearest snapshot and the patches after it; large values stay references until read.
    this.context = deepFreeze(this.storage.contextAt(this.state.contextVersion).context);
    this.blobs.reset(stored.runId, this.context);
    const timers = this.storage.dueTimers(Number.MAX_SAFE_INTEGER);
    this.clock.restoreWatch(timers);
    this.steps.restore(timers);
    if (isTerminalRun(this.state.status)) {
      this.checkpoints.schedule(true);
      this.children.recover();
      return;
    }
    // A fresh instance has nothing in flight: any attempt recorded as running was cut short,
    // except those out on the steps queue, which their leases cover.
    this.dispatch(this.steps.resumeEvent());
    this.clock.fireDue(Date.now());
    this.checkpoints.schedule(true);
    this.drive();
    // A scan of the event buffer cut short by a restart runs again.
    for (const step of Object.values(this.state.steps)) {
      if (step.status === "waiting" && step.eventWait) this.events.scan(step.nodeId, step.attempts);
    }
    this.children.recover();
  }

  // ---- RPC surface -------------------------------------------------------------------------

  async start(input: StartInput): Promise<{ runId: string; status: string; created: boolean }> {
    if (this.state) {
      // A parent starting a child again after a restart: a child that ended reports again.
      this.children.resendEnd();
      return { runId: this.state.runId, status: this.state.status, created: false };
    }
    const { loaded, state: fresh, initial } = newRun(input, Date.now(), publicUrl(this.env));
    const queued = input.flow !== undefined && input.flow.admitted < input.flow.gates.length;
    const state: RunState = queued ? { ...fresh, status: "queued" } : fresh;
    // A large input goes to R2 before the run exists; the await lets a concurrent start in.
    const offloaded = await this.blobs.offloadInitial(input.runId, initial);
    const raced = this.state as RunState | undefined;
    if (raced) return { runId: raced.runId, status: raced.status, created: false };
    const context = offloaded.ok ? offloaded.stored : initial;
    const setup = { definition: input.definition, triggerType: input.trigger.type };
    // Stored first: if storage refuses the run, the object holds none and a retry starts it.
    this.storage.create(setup, state, context);
    this.blobs.reset(input.runId, context);
    this.setup = setup;
    this.loaded = loaded;
    this.state = state;
    this.context = deepFreeze(context);
    this.gates.create(input.flow);
    if (queued) this.checkpoints.schedule(true);
    else {
      this.dispatch({ type: "start" });
      this.drive();
    }
    return { runId: input.runId, status: this.state.status, created: true };
  }

  /**
   * Makes this object a spare (src/triggers/spare-runs.ts): its database now, its run when a
   * trigger takes it. Its alarm deletes it at `expiresAt` if no run has started by then.
   */
  async prepare(input: { expiresAt: number }): Promise<{ prepared: boolean }> {
    if (this.state) return { prepared: false };
    this.storage.prepare();
    this.clock.armOnce(input.expiresAt);
    return { prepared: true };
  }

  /** With `inline`, the report's context has its large values resolved instead of referenced. */
  async report(options: { inline?: boolean } = {}): Promise<ExecutionReport | null> {
    if (!this.state || !this.loaded) return null;
    const context = options.inline ? await this.blobs.resolved() : this.context;
    const report = buildReport(this.loaded.plan, this.state, context, this.storage.contextVersions());
    const flow = await this.gates.report();
    return {
      ...report,
      output: await reportOutput(this.state, this.setup?.definition, context),
      ...(flow ? { flow } : {}),
    };
  }

  // ---- flow control (src/flow/run-gates.ts) -----------------------------------------------

  /** A gate let this queued run through: it asks the next gate, or starts. */
  async admit(gate: string): Promise<{ ok: boolean }> {
    return this.gates.admit(gate);
  }

  /** A gate checks on the lease of the slot it granted this run. */
  async gateCheck(gate: string): Promise<GateCheck> {
    return this.gates.gateCheck(gate);
  }

  /** A child run of one of this run's steps ended (src/run/children.ts). */
  async childEnded(report: ChildReport): Promise<{ ok: boolean } | null> {
    if (!this.state) return null;
    return this.children.childEnded(report);
  }

  async contextAt(
    version?: number,
    options: { inline?: boolean } = {},
  ): Promise<{ version: number; hash: string; context: JsonObject } | { error: ErrorData } | null> {
    if (!this.state) return null;
    return readContext(
      { state: this.state, latest: this.context, storage: this.storage, blobs: this.blobs },
      version,
      options,
    );
  }

  private contextAtVersion(version: number): Readonly<JsonObject> {
    if (!this.state || version >= this.state.contextVersion) return this.context;
    return deepFreeze(this.storage.contextAt(version).context);
  }

  async cancel(reason?: string): Promise<{ status: string } | { error: ErrorData } | null> {
    if (!this.state) return null;
    if (isTerminalRun(this.state.status)) {
      return { error: errorData("run.not_active", `run is already ${this.state.status}`) };
    }
    this.dispatch({ type: "cancel", reason: reason ?? "cancelled by request" });
    return { status: this.state.status };
  }

  /** Watchdog entry: makes sure a run that should be moving is, and its checkpoints are out. */
  async poke(): Promise<{ status: string | null }> {
    // Trust the stored alarm, not the cached one: the poke exists for when they disagree.
    await this.clock.reread();
    if (this.state && !isTerminalRun(this.state.status)) {
      this.clock.fireDue(Date.now());
      this.drive();
    }
    this.checkpoints.schedule(true);
    return { status: this.state?.status ?? null };
  }

  /** The review an approval link points at, and whether it is still open to its approver. */
  async reviewInfo(query: ReviewQuery): Promise<ReviewInfo | null> {
    if (!this.state || !this.loaded) return null;
    return describeReview(this.loaded.plan, this.loaded.configs, this.state, query) ?? null;
  }

  /**
   * A decision from a claimed approval link. The link was checked and claimed in D1; this
   * checks again that the step is still waiting for exactly this approver, round and attempt.
   */
  async decide(input: DecideInput): Promise<DecideResult | null> {
    if (!this.state || !this.loaded) return null;
    const info = describeReview(this.loaded.plan, this.loaded.configs, this.state, input);
    if (!info) return { ok: false, reason: "superseded" };
    if (!info.open) return { ok: false, reason: info.closed ?? "decided" };
    this.dispatch(decisionEvent(input));
    this.drive();
    const step = this.state.steps[input.nodeId];
    return { ok: true, runStatus: this.state.status, stepStatus: step?.status ?? "unknown" };
  }

  /**
   * An event for this run: a waiting step whose name and match fit takes it at once; otherwise
   * it is buffered, in arrival order, for a wait that comes later. An id seen before is a duplicate.
   */
  async deliverEvent(input: {
    name: string;
    id?: string;
    payload: Json;
    receivedAt: number;
  }): Promise<EventDelivery | { error: ErrorData } | null> {
    return this.events.deliver(input);
  }

  // ---- operations (src/run/operations.ts) --------------------------------------------------

  async pause(
    input: { reason?: string; by?: string } = {},
  ): Promise<OperationResult<{ status: string; pausedAt: number }>> {
    return this.operations.pause(input);
  }

  async unpause(input: { by?: string } = {}): Promise<OperationResult<{ status: string; released: number }>> {
    return this.operations.unpause(input);
  }

  async retry(input: RetryInput = {}): Promise<OperationResult<RetryResult>> {
    return this.operations.retry(input);
  }

  async replaySeed(input: { fromNode: string }): Promise<OperationResult<ReplaySeed>> {
    return this.operations.replaySeed(input);
  }

  async startReplay(input: ReplayStart): Promise<{ runId: string; status: string; created: boolean }> {
    if (this.state) return { runId: this.state.runId, status: this.state.status, created: false };
    return this.operations.startReplay(await this.blobs.replayStart(input));
  }

  /**
   * Deletes a run that has ended: its object's storage and alarm here; the route then removes its
   * blobs and D1 rows. Checkpoints are flushed first, so none lands in D1 after the route's delete.
   */
  async destroy(): Promise<{ runId: string; status: string } | { error: ErrorData } | null> {
    if (!this.state) return null;
    if (!isTerminalRun(this.state.status)) {
      return { error: errorData("run.not_active", `run is ${this.state.status}; only an ended run can be deleted`) };
    }
    await this.idle();
    const { runId, status } = this.state;
    await this.wipe();
    return { runId, status };
  }

  /** The run's status and the child runs it started: a delete walks the tree with it first. */
  async childRuns(): Promise<{ status: string; childRunIds: string[] } | null> {
    if (!this.state) return null;
    return { status: this.state.status, childRunIds: this.children.startedRunIds() };
  }

  /** Deletes the object's storage and alarm and forgets the run it held. */
  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.storage.forget();
    this.blobs.forget();
    this.gates.forget();
    this.state = undefined;
    this.loaded = undefined;
    this.setup = undefined;
    this.context = {};
    this.clock.forget();
  }

  /**
   * Resolves once no node attempt is in flight, here or out on the steps queue, and checkpoints
   * are flushed (tests, bench).
   */
  async idle(): Promise<{ status: string | null }> {
    await this.settled(true);
    return { status: this.state?.status ?? null };
  }

  // ---- the steps queue (src/run/dispatched-steps.ts) -----------------------------------------

  /** A consumer takes dispatched attempts: what it needs to run each, or null for a stale one. */
  async claimMany(inputs: ClaimInput[]): Promise<(AttemptJob | null)[]> {
    return inputs.map((input) => this.steps.claim(input));
  }

  /** A consumer's results for dispatched attempts; a duplicate or stale one changes nothing. */
  async completeMany(results: AttemptResult[]): Promise<{ accepted: boolean }[]> {
    // As on the inline path, large values go to R2 before the engine sees the output.
    const accepted = this.steps.complete(await storedResults(this.blobs, results));
    this.drive();
    this.notifyIdle();
    return accepted;
  }

  /** The dead-letter queue's consumer: this sending of the attempt is given up on. */
  async stepDeadLettered(input: ClaimInput): Promise<{ expired: boolean }> {
    const result = this.steps.deadLettered(input);
    this.drive();
    return result;
  }

  override async alarm(): Promise<void> {
    // A spare no trigger took (or an object whose run was deleted): nothing is kept.
    if (!this.state) return this.wipe();
    this.clock.fireDue(this.clock.fired(Date.now()));
    this.drive();
    // Not the steps queue: attempts out there report through RPCs, not this invocation.
    await this.settled(false);
  }

  /** Nothing in flight here and checkpoints flushed; with `queued`, nothing out on the steps queue either. */
  private async settled(queued: boolean): Promise<void> {
    while (this.inflight.size > 0 || this.checkpoints.busy || (queued && this.steps.outstanding > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  // ---- the loop ----------------------------------------------------------------------------

  private dispatch(event: RunEvent): void {
    if (!this.state || !this.loaded || !this.setup) return;
    const result = transition(this.loaded.plan, this.state, event, Date.now());
    if (!result.changed) return;
    this.state = result.state;
    this.storage.persist(result, this.setup.triggerType);
    this.steps.prune(result.state, result.changedSteps);
    let timersChanged = false;
    let mail = false;
    let links = false;
    for (const command of result.commands) {
      switch (command.type) {
        case "execute":
          this.queue.push(command);
          break;
        case "write-context":
          this.context = Object.freeze({ ...this.context, ...deepFreeze(command.patch) });
          this.blobs.apply(command.patch);
          break;
        case "set-timer":
        case "clear-timer":
          timersChanged = true;
          break;
        case "run-ended":
          logLine("info", "run ended", { runId: result.state.runId, status: command.status });
          this.spans.run(result.state);
          this.gates.ended();
          links = this.children.runEnded(result.state, Date.now()) || links;
          break;
        case "start-child":
        case "cancel-children":
        case "collect-children":
          // Same synchronous stretch as the transition: the children rows and jobs commit with it.
          links = this.children.command(command, Date.now()) || links;
          break;
        case "request-review":
          // Same synchronous stretch as the transition: the jobs commit with it.
          this.mailer.enqueue(command, result.state, Date.now());
          timersChanged = true;
          mail = true;
          break;
        case "await-event":
          this.events.scan(command.nodeId, command.attempt);
          break;
      }
    }
    if (mail) this.track("mail", this.mailer.kick());
    if (links) this.track("links", this.children.kick());
    this.clock.reviewWatch();
    if (timersChanged) this.clock.sync();
    this.checkpoints.schedule(this.isIdle());
  }

  /**
   * Starts every queued attempt; each completion feeds the engine and drives again. Several io
   * attempts ready together go out through the steps queue instead (unless `inline`).
   */
  private drive(inline = false): void {
    if (this.queue.length === 0) return;
    const ready = this.queue.splice(0);
    const here = inline ? ready : this.steps.route(ready.filter((command) => !this.inflight.has(attemptKey(command))));
    for (const command of here) {
      const key = attemptKey(command);
      if (this.inflight.has(key)) continue;
      const task = runInlineAttempt(this.inline, command).finally(() => {
        this.inflight.delete(key);
        this.drive();
        if (this.isIdle()) this.checkpoints.schedule(true);
        this.notifyIdle();
      });
      this.inflight.set(key, task);
      this.ctx.waitUntil(task);
    }
  }

  /** Keeps a background task on the books, so `idle()` and the alarm wait for it. */
  private track(key: string, task: Promise<void>): void {
    if (this.inflight.has(key)) return;
    const tracked = task
      .catch((thrown) =>
        logLine("error", "background task failed", { runId: this.state?.runId, key, error: String(thrown) }),
      )
      .finally(() => {
        this.inflight.delete(key);
        this.notifyIdle();
      });
    this.inflight.set(key, tracked);
    this.ctx.waitUntil(tracked);
  }

  /**
   * Nothing executing or about to, here or out on the steps queue: the moment to let
   * checkpoints out. (While a fan-out is out, each result's transition would otherwise flush
   * to D1 at once and compete with the results still coming in.)
   */
  private isIdle(): boolean {
    return this.inflight.size === 0 && this.queue.length === 0 && this.steps.outstanding === 0;
  }

  private notifyIdle(): void {
    if (this.inflight.size > 0 || this.checkpoints.busy) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
