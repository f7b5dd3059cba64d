import type { Command } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import type { Plan } from "../engine/plan";
import { isTerminalRun, type ParentLink, type RunState, runDepth, type Timer } from "../engine/state";
import { initialRunState } from "../engine/transition";
import { type ErrorData, errorData, fail, toErrorData } from "../errors";
import { byteLength } from "../lib/blob-ref";
import { childRunId, sortableId } from "../lib/ids";
import { canonicalJson, deepFreeze, type Json, type JsonObject } from "../lib/json";
import { defaultPublicUrl } from "../lib/public-url";
import type { LlmAttemptContext, LlmPort } from "../llm/types";
import { nodeSpec } from "../nodes/registry";
import type { NodePorts } from "../nodes/types";
import type { ChildBody } from "./children-store";
import { compensationContext } from "./compensation-context";
import {
  type ContextLimits,
  contextSizeError,
  defaultInlineBytes,
  defaultMaxBytes,
  planOffload,
} from "./context-store";
import { type ChildEnd, DryChildren } from "./dry-children";
import { MockedHttp, MockedLlm, type Mocks, mockFor } from "./dry-run-mocks";
import { eventMatches } from "./event-inbox";
import { executeNode } from "./execute-node";
import { type LoadedPlan, loadPlan } from "./plans";
import { buildReport, type ExecutionReport } from "./report";
import { type LoopPorts, RunLoop } from "./run-loop";
import { runOutput } from "./run-output";

/**
 * A dry run: the whole DAG through the same run loop (src/run/run-loop.ts), engine and node
 * execution as a run, on in-memory ports. Ready attempts run concurrently, outputs are held to
 * the context's size limit, and map, loop and subworkflow steps start real child runs, each a
 * dry run of its own under the same mocks. Nothing leaves it: no D1 record (a subworkflow's
 * stored definition is read), no Durable Object, no HTTP (http nodes get the mocked
 * responses), no email (review requests are listed and decided by mocks), no LLM call (llm
 * nodes get the mocked answers, or are mocked whole); node types that could reach anything
 * else are not executed unless mocked. Time is virtual: when nothing is left to execute, the
 * clock jumps to the next timer, so a 2-day wait or a review's expiry plays out at once.
 */

/** Node types a dry run may execute for real: pure ones, and those whose only way out is a mocked port or a command. */
const executable = new Set(["http", "human", "map", "loop", "subworkflow"]);
/** Transitions one dry run may take; a DAG with finite retries ends long before. */
const maxTransitions = 10_000;

export interface DryRunInput {
  plan: Plan;
  configs: Readonly<Record<string, unknown>>;
  input: Json;
  mocks: Mocks;
  /** The virtual clock's start (defaults to now). */
  now?: number;
  /** `run.publicUrl` in the context, as a real run on this server would see it (src/lib/public-url.ts). */
  publicUrl?: string;
  /** llm nodes: what the shell would tell an attempt (model chain position, spend, budget, prices). */
  llmContext?: (state: RunState, nodeId: string) => LlmAttemptContext | undefined;
  /** The context's size limits, as this server's runs have them (defaults otherwise). */
  limits?: ContextLimits;
  /** A stored workflow version a subworkflow step calls; without it, such a call finds none. */
  loadWorkflow?: (workflowId: string, version?: number) => Promise<ChildBody | undefined>;
}

export interface DryRunReport extends ExecutionReport {
  dryRun: true;
  /** Model calls llm nodes made, and whether a mock answered them. */
  llmCalls: { nodeId: string; attempt: number; provider: string; model: string; mocked: boolean }[];
  /** Requests http nodes made, and what answered them. */
  calls: { nodeId: string; attempt: number; method: string; url: string; status: number | null; mocked: boolean }[];
  /** Review requests that would have been emailed. */
  emails: { nodeId: string; attempt: number; round: number; purpose: string; to: string[] }[];
  logs: { nodeId: string; attempt: number; level: string; message: string; data: unknown }[];
  /** Mocked outcomes, decisions and events used, per node and attempt. */
  mocked: { nodeId: string; attempt: number; what: "outcome" | "review" | "event" }[];
  /** How far the virtual clock moved past real time (timers fired early). */
  skippedMs: number;
}

export async function dryRun(request: DryRunInput): Promise<DryRunReport> {
  return new DryRun(request).run();
}

/** What a child dry run shares with its parent: the mocks' state and the report's lists. */
interface Shared {
  http: MockedHttp;
  llm: MockedLlm;
  calls: DryRunReport["calls"];
  llmCalls: DryRunReport["llmCalls"];
  emails: DryRunReport["emails"];
  logs: DryRunReport["logs"];
  mocked: DryRunReport["mocked"];
}

/** A child dry run (map item, loop iteration, subworkflow call): its parent step and its start. */
interface ChildStart {
  parent: ParentLink;
  loaded: LoadedPlan;
  definition: unknown;
  shared: Shared;
}

class DryRun {
  private readonly request: DryRunInput;
  private readonly plan: Plan;
  private readonly configs: Readonly<Record<string, unknown>>;
  private readonly loop: RunLoop;
  private readonly shared: Shared;
  private readonly children: DryChildren;
  private readonly versions: ExecutionReport["contextVersions"] = [];
  private readonly timers = new Map<string, Timer>();
  private readonly follow: Command[] = [];
  private readonly limits: ContextLimits;
  private skipped = 0;
  private readonly realStart = Date.now();
  private readonly start: number;
  private transitions = 0;
  /** A throw inside an attempt or a child (the transition limit): the dry run stops with it. */
  private thrown: { error: unknown } | undefined;
  private readonly definition: unknown;

  constructor(request: DryRunInput, child?: ChildStart) {
    this.request = request;
    this.plan = child?.loaded.plan ?? request.plan;
    this.configs = child?.loaded.configs ?? request.configs;
    this.definition = child?.definition;
    this.limits = request.limits ?? { inlineBytes: defaultInlineBytes, maxBytes: defaultMaxBytes };
    this.shared = child?.shared ?? {
      http: new MockedHttp(request.mocks.http),
      llm: new MockedLlm(request.mocks.llm),
      calls: [],
      llmCalls: [],
      emails: [],
      logs: [],
      mocked: [],
    };
    this.start = request.now ?? this.realStart;
    const runId = child
      ? childRunId(child.parent.runId, child.parent.nodeId, child.parent.attempt, child.parent.index)
      : sortableId("dry", this.start);
    this.loop = new RunLoop(this.ports());
    const state = initialRunState(this.plan, { runId, createdAt: this.start });
    this.loop.state = child ? { ...state, parent: child.parent } : state;
    this.loop.plan = this.plan;
    this.loop.context = deepFreeze({
      input: request.input,
      trigger: child
        ? { type: "parent", id: child.parent.runId, receivedAt: this.start }
        : { type: "test", id: null, receivedAt: this.start },
      run: {
        id: runId,
        workflowId: this.plan.workflowId,
        version: this.plan.version,
        depth: runDepth(this.loop.state),
        publicUrl: request.publicUrl ?? defaultPublicUrl,
        dryRun: true,
        ...(child ? { parentRunId: child.parent.runId } : {}),
      },
    });
    this.versions.push({ version: 0, nodeId: null, createdAt: this.start });
    this.children = new DryChildren({
      state: () => this.state,
      loaded: () => ({ plan: this.plan, configs: this.configs }),
      context: () => this.loop.context,
      ...(request.loadWorkflow ? { loadWorkflow: request.loadWorkflow } : {}),
      runChild: (body, input, parent) => this.runChild(body, input, parent),
      storedOutput: (nodeId, output) => this.sizeError(nodeId, output),
      dispatch: (event) => this.loop.dispatch(event),
      drive: () => this.loop.drive(),
      track: (key, task) => this.loop.track(key, task),
    });
  }

  private get state(): RunState {
    const state = this.loop.state;
    if (!state) throw new Error("a dry run always holds its state");
    return state;
  }

  /** The same loop a durable run has, on in-memory ports and a virtual clock. */
  private ports(): LoopPorts {
    return {
      clock: {
        now: () => this.now(),
        setTimer: (command) => this.timers.set(command.timer.id, command.timer),
        clearTimer: (command) => this.timers.delete(command.id),
      },
      storage: {
        ready: () => true,
        persist: () => {
          this.transitions += 1;
          if (this.transitions > maxTransitions) {
            fail("dryrun.limit_exceeded", `the dry run took more than ${maxTransitions} steps`);
          }
        },
        contextWritten: (command, turn) =>
          this.versions.push({ version: command.version, nodeId: command.nodeId, createdAt: turn.now }),
        ended: () => undefined,
      },
      attempts: {
        route: (ready) => ready,
        run: (command) =>
          this.execute(command).catch((error: unknown) => {
            this.thrown ??= { error };
          }),
        outstanding: () => 0,
        ended: () => undefined,
      },
      children: { command: (command) => this.children.command(command) },
      mail: {
        requestReview: (command) => {
          this.shared.emails.push({
            nodeId: command.nodeId,
            attempt: command.attempt,
            round: command.round,
            purpose: command.purpose,
            to: command.approvers,
          });
          if (command.purpose !== "reminder") this.follow.push(command);
        },
      },
      events: { awaitEvent: (command) => this.follow.push(command) },
      settle: () => undefined,
      keepAlive: () => undefined,
      failed: (_key, error) => {
        this.thrown ??= { error };
      },
      busy: () => false,
    };
  }

  private now(): number {
    return this.start + (Date.now() - this.realStart) + this.skipped;
  }

  async run(): Promise<DryRunReport> {
    this.step(() => this.loop.dispatch({ type: "start" }));
    while (!isTerminalRun(this.state.status)) {
      // Ready attempts run concurrently, as in a run; children run to their end meanwhile.
      await this.loop.settled(false);
      if (this.thrown) throw this.thrown.error;
      if (isTerminalRun(this.state.status)) break;
      const next = this.follow.shift();
      if (next) {
        await this.answer(next);
        this.loop.drive();
        continue;
      }
      if (!this.fireNextTimer()) break;
    }
    return {
      ...buildReport(this.plan, this.state, this.loop.context, this.versions),
      dryRun: true,
      llmCalls: this.shared.llmCalls,
      calls: this.shared.calls,
      emails: this.shared.emails,
      logs: this.shared.logs,
      mocked: this.shared.mocked,
      skippedMs: this.skipped,
    };
  }

  /** Feeds the engine and starts what it made ready. */
  private step(feed: () => void): void {
    feed();
    this.loop.drive();
  }

  /** A child of one of this run's steps: a dry run of its body, with the same mocks, to its end. */
  private async runChild(body: ChildBody, input: Json, parent: ParentLink): Promise<ChildEnd> {
    const loaded = loadPlan(body.workflowId, body.version, body.definition);
    const child = new DryRun(
      { ...this.request, input, now: this.now() },
      { parent, loaded, definition: body.definition, shared: this.shared },
    );
    return child.runToEnd();
  }

  private async runToEnd(): Promise<ChildEnd> {
    await this.run();
    const { status, error } = this.state;
    if (status === "success") {
      try {
        return { status, output: await runOutput(this.definition, this.loop.context) };
      } catch (thrown) {
        return { status: "failed", error: toErrorData(thrown, "node.expression_failed") };
      }
    }
    if (status === "cancelled") return { status, ...(error ? { error } : {}) };
    return {
      status: "failed",
      error: error ?? errorData("node.failed", `the child run ended ${status}`),
    };
  }

  /** The context's size limit, as a run's own storage enforces it (src/run/context-store.ts). */
  private sizeError(nodeId: string, output: JsonObject): ErrorData | undefined {
    const sizes = new Map<string, number>();
    for (const [key, value] of Object.entries(this.loop.context)) {
      sizes.set(key, byteLength(canonicalJson(value) ?? "null"));
    }
    return contextSizeError(nodeId, sizes, planOffload(output, this.limits.inlineBytes), this.limits.maxBytes);
  }

  /** Nothing to execute: the clock jumps to the earliest timer, and every timer due by then fires. */
  private fireNextTimer(): boolean {
    const timers = [...this.timers.values()].sort((a, b) => a.at - b.at);
    const first = timers[0];
    if (!first) return false;
    const now = this.now();
    if (first.at > now) this.skipped += first.at - now;
    for (const timer of timers) {
      if (timer.at > first.at) break;
      this.timers.delete(timer.id);
      this.loop.dispatch({ type: "timer", timer });
    }
    this.loop.drive();
    return true;
  }

  private async execute(command: Extract<Command, { type: "execute" }>): Promise<void> {
    const node = this.plan.nodes[command.nodeId];
    if (!node) return;
    // A compensation runs its node type's own request against the http mocks; node mocks are the step's.
    const mock = command.compensate ? undefined : mockFor(this.request.mocks, node.id, command.attempt);
    const spec = nodeSpec(node.type);
    let outcome: NodeOutcome;
    let unmocked: string | undefined;
    const answersLlm = node.type === "llm" && this.request.mocks.llm.length > 0;
    if (!mock?.outcome && spec?.kind !== "pure" && !executable.has(node.type) && !answersLlm) {
      outcome = {
        type: "failure",
        error: errorData("dryrun.mock_missing", `a dry run does not execute ${node.type} nodes: mock ${node.id}`),
      };
    } else {
      if (mock?.outcome) this.shared.mocked.push({ nodeId: node.id, attempt: command.attempt, what: "outcome" });
      const mocked = mock?.outcome;
      const ports: NodePorts = {
        fetch: async (request) => {
          const found = this.shared.http.match(request.method, request.url);
          this.shared.calls.push({
            nodeId: node.id,
            attempt: command.attempt,
            method: request.method,
            url: request.url,
            status: found?.status ?? null,
            mocked: found !== undefined,
          });
          if (!found) {
            unmocked = `${request.method} ${request.url}`;
            throw new Error(`dry run: no mocked response for ${unmocked}`);
          }
          const headers = new Headers(found.headers);
          if (!headers.has("content-type")) headers.set("content-type", "application/json");
          return new Response(JSON.stringify(found.body), { status: found.status, headers });
        },
        log: (entry) =>
          this.shared.logs.push({
            nodeId: node.id,
            attempt: command.attempt,
            level: entry.level,
            message: entry.message,
            data: entry.data ?? null,
          }),
      };
      if (answersLlm) ports.llm = this.llmPort(node.id, command.attempt);
      const llm = node.type === "llm" ? this.request.llmContext?.(this.state, node.id) : undefined;
      outcome = await executeNode({
        command,
        node,
        config: command.compensate ? node.compensate?.config : this.configs[node.id],
        runId: this.state.runId,
        workflowId: this.state.workflowId,
        context: command.compensate
          ? compensationContext(this.loop.context, this.state.steps[node.id]?.output)
          : this.loop.context,
        ports,
        now: this.now(),
        ...(mocked ? { execute: async () => mocked } : {}),
        ...(llm ? { llm } : {}),
      });
      if (unmocked && outcome.type === "failure") {
        outcome = {
          type: "failure",
          error: errorData("dryrun.unmocked_request", `a dry run sends nothing: no http mock answers ${unmocked}`),
        };
      }
    }
    // As a run stores it: within the context's size limit, children resolved and their inputs kept.
    if (outcome.type === "success" && !command.compensate) {
      const error = this.sizeError(node.id, outcome.output);
      if (error) outcome = { type: "failure", error };
    }
    if (outcome.type === "spawn") outcome = await this.children.prepare(command, outcome);
    this.loop.dispatch({
      type: "node-result",
      nodeId: command.nodeId,
      attempt: command.attempt,
      outcome,
      ...(command.compensate ? { compensate: true } : {}),
    });
  }

  /** Model calls answered by the llm mocks; a call none answers fails like an unmocked request. */
  private llmPort(nodeId: string, attempt: number): LlmPort {
    return {
      resolve: (target) => ({ ok: true, provider: target.provider, model: target.model ?? `${target.provider}-model` }),
      generate: async (request) => {
        const found = this.shared.llm.match(nodeId, request.model);
        this.shared.llmCalls.push({
          nodeId,
          attempt,
          provider: request.provider,
          model: request.model,
          mocked: !!found,
        });
        if (!found) {
          return {
            ok: false,
            error: errorData(
              "dryrun.unmocked_request",
              `a dry run calls no model: no llm mock answers ${nodeId} (${request.model})`,
            ),
            latencyMs: 0,
          };
        }
        if (found.error) return { ok: false, error: found.error, latencyMs: 0 };
        const { inputTokens, outputTokens } = found.usage;
        return {
          ok: true,
          text: found.text,
          usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
          finishReason: "stop",
          latencyMs: 0,
        };
      },
    };
  }

  /** A review the node asked for, or an event it waits for: answered from the node's mock, if any. */
  private async answer(command: Command): Promise<void> {
    if (command.type === "request-review") {
      const review = mockFor(this.request.mocks, command.nodeId, command.attempt)?.review;
      if (!review) return;
      this.shared.mocked.push({ nodeId: command.nodeId, attempt: command.attempt, what: "review" });
      const approvers = review.by ? [review.by] : command.approvers;
      for (const approver of approvers) {
        if (this.state.steps[command.nodeId]?.status !== "needs_review") break;
        this.loop.dispatch({
          type: "decision",
          nodeId: command.nodeId,
          attempt: command.attempt,
          round: command.round,
          approver,
          decision: review.decision,
          ...(review.comment ? { comment: review.comment } : {}),
          ...(review.edits ? { edits: review.edits } : {}),
          ...(review.output ? { output: review.output } : {}),
        });
      }
      return;
    }
    if (command.type !== "await-event") return;
    const mock = mockFor(this.request.mocks, command.nodeId, command.attempt)?.event;
    const step = this.state.steps[command.nodeId];
    if (!mock || !step) return;
    const record = {
      name: command.name,
      id: mock.id ?? `dry-${command.nodeId}-${command.attempt}`,
      payload: mock.payload,
      receivedAt: this.now(),
    };
    let fits = false;
    try {
      fits = await eventMatches(step, record, this.loop.context);
    } catch {
      fits = false;
    }
    if (!fits) return;
    this.shared.mocked.push({ nodeId: command.nodeId, attempt: command.attempt, what: "event" });
    this.loop.dispatch({ type: "event", nodeId: command.nodeId, attempt: command.attempt, event: record });
  }
}
