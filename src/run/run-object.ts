import { DurableObject } from "cloudflare:workers";
import type { EmailPort } from "../adapters/email";
import { isTerminalRun, type RunState } from "../engine/state";
import { initialRunState } from "../engine/transition";
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import type { GateCheck } from "../flow/gate-object";
import { RunGates } from "../flow/run-gates";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { publicUrl } from "../lib/public-url";
import type { LlmPort } from "../llm/types";
import { nodeSpec } from "../nodes/registry";
import { keyringOf } from "../security/seal";
import type { SensitivePolicy } from "../security/sensitive";
import type { RunApi } from "../triggers/start-run";
import type { AttemptJob, AttemptResult } from "./attempt";
import { type BenchRunInput, writeBenchRun } from "./bench-run";
import type { Checkpointer } from "./checkpointer";
import type { ChildReport, Children, LinkApi } from "./children";
import type { ClaimInput, DispatchedSteps } from "./dispatched-steps";
import type { EventWaits } from "./event-inbox";
import type { EventDelivery, HumanLoopApi } from "./human-loop-api";
import { type InlineAttemptHost, runInlineAttempt } from "./inline-attempt";
import { type LiveContext, readContext, storedResults } from "./live-context";
import type { Mailer } from "./mailer";
import type {
  CompensateInput,
  CompensateResult,
  OperationResult,
  ReplaySeed,
  ReplayStart,
  RetryInput,
  RetryResult,
  RunOperations,
} from "./operations";
import type { OperationsApi } from "./operations-api";
import { type LoadedPlan, loadPlan } from "./plans";
import { buildReport, type ExecutionReport, reportOutput } from "./report";
import { deleteAfterOf } from "./retention";
import {
  type DecideInput,
  type DecideResult,
  decisionEvent,
  describeReview,
  type ReviewInfo,
  type ReviewQuery,
} from "./reviews";
import type { RunClock } from "./run-clock";
import { type LoopPorts, RunLoop } from "./run-loop";
import { buildRunParts, type RunShell } from "./run-parts";
import { type RunSetup, RunStorage } from "./run-storage";
import type { SpanLog } from "./spans";
import { newRun, type StartInput } from "./start-input";
import type { StepRunApi } from "./step-consumer";

export type { StartInput };

/**
 * One run's Durable Object: the RPC surface of a run, and the durable ports of its loop
 * (src/run/run-loop.ts). The loop feeds every event through the pure engine and carries out its
 * commands; this object plugs in its SQLite, alarm, steps queue, mail and child-run links. Node
 * attempts that are ready run back to back inside one invocation; the durable point of each is
 * this object's SQLite commit, and D1 checkpoints follow behind.
 */
export class RunObject extends DurableObject<Env> implements RunApi, OperationsApi, HumanLoopApi, StepRunApi, LinkApi {
  private readonly storage: RunStorage;
  private readonly loop: RunLoop;
  private setup: RunSetup | undefined;
  private loadedPlan: LoadedPlan | undefined;
  private readonly blobs: LiveContext;
  private readonly checkpoints: Checkpointer;
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
    this.loop = new RunLoop(this.durablePorts());
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
      dispatch: (event) => this.loop.dispatch(event),
    };
    this.gates = new RunGates({
      env,
      sql: ctx.storage.sql,
      runId: () => this.state?.runId,
      status: () => this.state?.status,
      start: () => {
        this.loop.dispatch({ type: "start" });
        this.loop.drive();
      },
      replay: (events) => {
        for (const event of events) this.loop.dispatch(event);
        this.loop.drive();
      },
      track: (key, task) => this.loop.track(key, task),
    });
    void ctx.blockConcurrencyWhile(async () => {
      await this.clock.reread();
      this.load();
    });
  }

  // The loop holds the run's state, plan and stored context; the object reads them from it.
  private get state(): RunState | undefined {
    return this.loop.state;
  }
  private set state(state: RunState | undefined) {
    this.loop.state = state;
  }
  private get loaded(): LoadedPlan | undefined {
    return this.loadedPlan;
  }
  private set loaded(loaded: LoadedPlan | undefined) {
    this.loadedPlan = loaded;
    this.loop.plan = loaded?.plan;
    this.blobs.protect(policyOf(loaded, this.setup), () => keyringOf(this.env), writesOf(loaded));
  }
  /** The stored context (large values as references); `blobs` holds it resolved. */
  private get context(): JsonObject {
    return this.loop.context;
  }
  private set context(context: JsonObject) {
    this.loop.context = context;
  }

  /**
   * The run loop's durable ports: the transition commits to this object's SQLite, timers to its
   * alarm, attempts run here or go out on the steps queue, mail and calls to other runs are
   * jobs written in the same commit and kicked right after it.
   */
  private durablePorts(): LoopPorts {
    return {
      // Timers are rows of the transition's commit; the alarm is synced once per turn (settle).
      clock: {
        now: () => Date.now(),
        setTimer: (command) => this.storage.setTimer(command.timer),
        clearTimer: (command) => this.storage.deleteTimer(command.id),
      },
      storage: {
        ready: () => this.setup !== undefined,
        persist: (result) => {
          const setup = this.setup;
          this.storage.persist(
            result,
            setup?.triggerType ?? "",
            setup ? deleteAfterOf(result.state, setup.definition, this.env) : null,
          );
          this.steps.prune(result.state, result.changedSteps);
        },
        contextWritten: (command, turn) => {
          this.storage.writeContextVersion(command, turn.state);
          this.blobs.apply(command.patch);
        },
        ended: (command, turn) => {
          logLine("info", "run ended", { runId: turn.state.runId, status: command.status });
          this.spans.run(turn.state);
          this.gates.ended();
          if (this.children.runEnded(turn.state, turn.now)) turn.links = true;
        },
      },
      attempts: {
        route: (ready) => this.steps.route(ready),
        run: (command) => runInlineAttempt(this.inline, command),
        outstanding: () => this.steps.outstanding,
        ended: (idle) => {
          if (idle) this.checkpoints.schedule(true);
        },
      },
      // Same synchronous stretch as the transition: the children rows and jobs commit with it.
      children: {
        command: (command, turn) => {
          if (this.children.command(command, turn.now)) turn.links = true;
        },
      },
      // Same synchronous stretch as the transition: the mail jobs commit with it.
      mail: {
        requestReview: (command, turn) => {
          this.mailer.enqueue(command, turn.state, turn.now);
          turn.mail = true;
        },
      },
      events: { awaitEvent: (command) => this.events.scan(command.nodeId, command.attempt) },
      hold: (event, result) => this.gates.hold(event, result),
      settle: (turn) => {
        this.gates.settled(turn.state);
        if (turn.mail) this.loop.track("mail", this.mailer.kick());
        if (turn.links) this.loop.track("links", this.children.kick());
        this.clock.reviewWatch();
        if (turn.timers) this.clock.sync();
        this.checkpoints.schedule(this.loop.isIdle());
      },
      keepAlive: (task) => this.ctx.waitUntil(task),
      failed: (key, thrown) =>
        logLine("error", "background task failed", { runId: this.state?.runId, key, error: String(thrown) }),
      busy: () => this.checkpoints.busy,
    };
  }

  /** What this object's parts see of it (src/run/run-parts.ts). */
  private shell(): RunShell {
    return {
      env: this.env,
      ctx: this.ctx,
      storage: this.storage,
      loop: this.loop,
      loaded: () => this.loaded,
      setup: () => this.setup,
      install: (loaded, setup, state, context) => {
        this.loaded = loaded;
        this.setup = setup;
        this.state = state;
        if (context) this.context = context;
      },
      contextAt: (version) => this.contextAtVersion(version),
      syncAlarm: () => this.clock.sync(),
      reviewWatch: () => this.clock.reviewWatch(),
      emailPort: () => this.emailPort,
      stepsQueue: () => this.stepsQueue,
      log: logLine,
      waitHeld: (nodeId, attempt) => this.gates.waitHeld(nodeId, attempt),
      gates: {
        requeue: () => this.gates.requeue(),
        pass: () => this.gates.pass(),
        create: (flow) => this.gates.create(flow),
      },
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
    this.loop.dispatch(this.steps.resumeEvent());
    this.clock.fireDue(Date.now());
    this.checkpoints.schedule(true);
    this.loop.drive();
    // A scan of the event buffer cut short by a restart runs again.
    for (const step of Object.values(this.state.steps)) {
      if (step.status === "waiting" && step.eventWait) this.events.scan(step.nodeId, step.attempts);
    }
    this.children.recover();
    this.gates.restore();
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
    // A large input goes to R2 (and sensitive fields are sealed) before the run exists; the await lets a concurrent start in.
    const setup: RunSetup = {
      definition: input.definition,
      triggerType: input.trigger.type,
      ...(input.inheritSensitive ? { sensitiveAll: true as const } : {}),
    };
    this.blobs.protect(policyOf(loaded, setup), () => keyringOf(this.env), writesOf(loaded));
    const offloaded = await this.blobs.offloadInitial(input.runId, initial);
    const raced = this.state as RunState | undefined;
    if (raced) return { runId: raced.runId, status: raced.status, created: false };
    const context = offloaded.ok ? offloaded.stored : initial;
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
      this.loop.dispatch({ type: "start" });
      this.loop.drive();
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

  /** `npm run bench` only (src/routes/bench.ts): a finished run written whole, as if it had run. */
  async benchWrite(input: BenchRunInput): Promise<{ created: boolean }> {
    if (this.env.BENCH !== "1" || this.state) return { created: false };
    writeBenchRun(this.storage, input, Date.now(), publicUrl(this.env));
    this.load();
    return { created: true };
  }

  /** With `inline`, the report's context has its large values resolved instead of referenced. */
  async report(options: { inline?: boolean } = {}): Promise<ExecutionReport | null> {
    if (!this.state || !this.loaded) return null;
    // Sensitive values stay sealed: the route redacts them, or reveals them to an admin.
    const context = options.inline ? await this.blobs.inline(this.context) : this.context;
    const report = buildReport(this.loaded.plan, this.state, context, this.storage.contextVersions());
    const flow = await this.gates.report();
    // A run that holds sensitive values computes its output on the real values and shows it sealed.
    const sealsOutput = this.blobs.sensitive() && this.state.status === "success";
    const output = sealsOutput
      ? await this.blobs.sealValue(await reportOutput(this.state, this.setup?.definition, await this.blobs.resolved()))
      : await reportOutput(this.state, this.setup?.definition, context);
    return {
      ...report,
      output,
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
    this.loop.dispatch({ type: "cancel", reason: reason ?? "cancelled by request" });
    // A run that compensates on cancel has its compensations to start.
    this.loop.drive();
    return { status: this.state.status };
  }

  /** Watchdog entry: makes sure a run that should be moving is, and its checkpoints are out. */
  async poke(): Promise<{ status: string | null }> {
    // Trust the stored alarm, not the cached one: the poke exists for when they disagree.
    await this.clock.reread();
    if (this.state && !isTerminalRun(this.state.status)) {
      this.clock.fireDue(Date.now());
      this.loop.drive();
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
    this.loop.dispatch(decisionEvent(input));
    this.loop.drive();
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

  async compensate(input: CompensateInput = {}): Promise<OperationResult<CompensateResult>> {
    return this.operations.compensate(input);
  }

  async replaySeed(input: { fromNode: string }): Promise<OperationResult<ReplaySeed>> {
    return this.operations.replaySeed(input);
  }

  async startReplay(input: ReplayStart): Promise<{ runId: string; status: string; created: boolean }> {
    if (this.state) return { runId: this.state.runId, status: this.state.status, created: false };
    // Edits to sensitive keys are sealed like any value the replayed workflow marks.
    const { seed } = input;
    const replayed = loadPlan(seed.workflowId, seed.version, seed.definition);
    this.blobs.protect(policyOf(replayed, undefined), () => keyringOf(this.env), writesOf(replayed));
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
    await this.loop.settled(true);
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
    this.loop.drive();
    this.loop.notifyIdle();
    return accepted;
  }

  /** The dead-letter queue's consumer: this sending of the attempt is given up on. */
  async stepDeadLettered(input: ClaimInput): Promise<{ expired: boolean }> {
    const result = this.steps.deadLettered(input);
    this.loop.drive();
    return result;
  }

  override async alarm(): Promise<void> {
    // A spare no trigger took (or an object whose run was deleted): nothing is kept.
    if (!this.state) return this.wipe();
    this.clock.fireDue(this.clock.fired(Date.now()));
    this.loop.drive();
    // Not the steps queue: attempts out there report through RPCs, not this invocation.
    await this.loop.settled(false);
  }
}

/** What a run seals: its workflow's marks, or everything when it is the child of a run that marks data. */
function policyOf(loaded: LoadedPlan | undefined, setup: RunSetup | undefined): SensitivePolicy | undefined {
  if (!setup?.sensitiveAll) return loaded?.sensitive;
  return { keys: loaded?.sensitive?.keys ?? new Set(), inputPaths: loaded?.sensitive?.inputPaths ?? [], all: true };
}

/** The context keys each node of the plan writes (what a node's `sensitive: "output"` covers). */
function writesOf(loaded: LoadedPlan | undefined): (nodeId: string) => readonly string[] {
  return (nodeId) => {
    const node = loaded?.plan.nodes[nodeId];
    return node ? (nodeSpec(node.type)?.writes(loaded?.configs[nodeId]) ?? []) : [];
  };
}
