import { type EmailPort, emailPortFor } from "../adapters/email";
import type { RunEvent } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import type { RunState } from "../engine/state";
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import type { RunFlow } from "../flow/types";
import type { JsonObject } from "../lib/json";
import { publicUrl } from "../lib/public-url";
import { nodeSpec } from "../nodes/registry";
import { database } from "../store/db";
import { getVersion } from "../store/workflows";
import { Checkpointer } from "./checkpointer";
import { Children } from "./children";
import { contextLimits } from "./context-store";
import { DispatchedSteps } from "./dispatched-steps";
import { EventInbox, EventWaits } from "./event-inbox";
import { LiveContext, storedOutcome } from "./live-context";
import { deliveryFailed, Mailer, openRequestOf } from "./mailer";
import { RunOperations } from "./operations";
import type { LoadedPlan } from "./plans";
import { RunClock } from "./run-clock";
import type { RunLoop } from "./run-loop";
import type { RunSetup, RunStorage, ShellTimer } from "./run-storage";
import { SpanLog, spanMode } from "./spans";

/**
 * What a run object's parts may see of it and ask of it: its bindings, storage and run loop
 * (through which every part feeds events back to the engine), and what only the object holds.
 * `buildRunParts` wires every part to it, so the object's file holds its RPC surface and ports.
 */
export interface RunShell {
  readonly env: Env;
  readonly ctx: DurableObjectState;
  readonly storage: RunStorage;
  readonly loop: RunLoop;
  loaded(): LoadedPlan | undefined;
  setup(): RunSetup | undefined;
  /** A run started over on another version, or a replay: take on its plan, setup, state and context. */
  install(loaded: LoadedPlan, setup: RunSetup, state: RunState, context?: JsonObject): void;
  contextAt(version: number): Readonly<JsonObject>;
  syncAlarm(): void;
  reviewWatch(): void;
  emailPort(): EmailPort | undefined;
  stepsQueue(): Queue | undefined;
  log(level: string, message: string, fields: Record<string, unknown>): void;
  /** Flow control holds an event that ends this wait until the run's slots are back: the wait takes no other. */
  waitHeld(nodeId: string, attempt: number): boolean;
  /** Flow control: a retry of a gated run passes its gates again (src/flow/run-gates.ts). */
  gates: { requeue(): boolean; pass(): Promise<void>; create(flow: RunFlow | undefined): void };
}

export interface RunParts {
  blobs: LiveContext;
  spans: SpanLog;
  checkpoints: Checkpointer;
  events: EventWaits;
  mailer: Mailer;
  operations: RunOperations;
  steps: DispatchedSteps;
  children: Children;
  clock: RunClock;
}

export function buildRunParts(shell: RunShell): RunParts {
  const { env, ctx, storage, log, loop } = shell;
  const state = (): RunState | undefined => loop.state;
  const dispatch = (event: RunEvent) => loop.dispatch(event);
  const drive = () => loop.drive();
  const track = (key: string, task: Promise<void>) => loop.track(key, task);
  const notifyIdle = () => loop.notifyIdle();
  const timers = {
    setTimer: (timer: ShellTimer) => {
      storage.setTimer(timer);
      shell.syncAlarm();
    },
    deleteTimer: (id: string) => {
      storage.deleteTimer(id);
      shell.syncAlarm();
    },
  };
  const blobs = new LiveContext(() => env.BLOBS, contextLimits(env));
  const spans = new SpanLog(spanMode(env.TRACE_SPANS));
  const checkpoints = new Checkpointer({
    storage,
    d1: env.DB,
    waitUntil: (task) => ctx.waitUntil(task),
    settled: () => {
      spans.flush();
      shell.reviewWatch();
      notifyIdle();
    },
    log: (level, message, fields) => log(level, message, { runId: state()?.runId, ...fields }),
  });
  const events = new EventWaits(new EventInbox(ctx.storage.sql), {
    state,
    plan: () => shell.loaded()?.plan,
    context: () => blobs.view(),
    sealPayload: (payload) => blobs.sealValue(payload),
    openPayload: (payload) => blobs.open(payload),
    sealsOutputOf: (nodeId) => {
      const loaded = shell.loaded();
      const node = loaded?.plan.nodes[nodeId];
      return node !== undefined && blobs.marks(nodeSpec(node.type)?.writes(loaded?.configs[nodeId]) ?? []);
    },
    dispatch,
    drive,
    track,
    held: (nodeId, attempt) => shell.waitHeld(nodeId, attempt),
  });
  const mailer = new Mailer({
    sql: ctx.storage.sql,
    env,
    port: () => shell.emailPort() ?? emailPortFor(env),
    openRequest: (job) => openRequestOf(state(), job),
    ...timers,
    gaveUp: (job, error) => dispatch(deliveryFailed(job, error)),
    log,
  });
  const operations = new RunOperations({
    state,
    loaded: shell.loaded,
    setup: shell.setup,
    storage,
    d1: env.DB,
    dispatch,
    drive,
    install: (loaded, setup, state, context) => {
      shell.install(loaded, setup, state, context);
      if (context) blobs.reset(state.runId, context);
    },
    loadVersion: async (workflowId, version) => {
      const stored = await getVersion(database(env.DB), workflowId, version);
      return stored && { version: stored.version, definition: stored.definition };
    },
    log,
    publicUrl: publicUrl(env),
    gates: shell.gates,
  });
  const steps = new DispatchedSteps({
    env,
    queue: () => shell.stepsQueue() ?? env.STEPS_QUEUE,
    state,
    loaded: shell.loaded,
    contextAt: shell.contextAt,
    store: storage,
    dispatch,
    runInline: (commands) => loop.runInline(commands),
    syncAlarm: shell.syncAlarm,
    track,
    recordSpan: (result) => {
      const current = state();
      const node = shell.loaded()?.plan.nodes[result.nodeId];
      if (current && node)
        spans.attempt(current, node, result.attempt, result.startedAt, result.outcome, result.endedAt);
    },
    notifyIdle,
  });
  const children = new Children({
    env,
    sql: ctx.storage.sql,
    state,
    loaded: shell.loaded,
    setup: shell.setup,
    liveContext: () => blobs.view(),
    resolvedContext: () => blobs.resolved(),
    sensitive: () => blobs.sensitive(),
    sealValue: (value) => blobs.sealValue(value),
    storedOutput: async (nodeId, output) => {
      const stored = await storedOutcome(blobs, nodeId, { type: "success", output });
      return stored.type === "success" ? { output: stored.output } : { error: errorOf(stored) };
    },
    dispatch,
    drive,
    track,
    ...timers,
    log,
  });
  const clock = new RunClock({
    alarm: ctx.storage,
    storage,
    state,
    watchFired: () => checkpoints.schedule(true),
    mailDue: (dueBy) => track("mail", mailer.kick(dueBy)),
    leaseExpired: (timer) => steps.expired(timer),
    linksDue: (dueBy) => track("links", children.kick(dueBy)),
    dispatch,
  });
  return { blobs, spans, checkpoints, events, mailer, operations, steps, children, clock };
}

/** storedOutcome answers a success or the failure that stopped it. */
function errorOf(outcome: NodeOutcome): ErrorData {
  return outcome.type === "failure" ? outcome.error : errorData("internal.error", `unexpected ${outcome.type}`);
}
