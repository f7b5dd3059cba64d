import type { Command, RunEvent } from "../engine/events";
import type { NodeOutcome } from "../engine/outcome";
import type { Plan } from "../engine/plan";
import { isTerminalRun, type RunState, runDepth, type Timer } from "../engine/state";
import { initialRunState, transition } from "../engine/transition";
import { errorData, fail } from "../errors";
import { sortableId } from "../lib/ids";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import { defaultPublicUrl } from "../lib/public-url";
import type { LlmAttemptContext, LlmPort } from "../llm/types";
import { nodeSpec } from "../nodes/registry";
import type { NodePorts } from "../nodes/types";
import { MockedHttp, MockedLlm, type Mocks, mockFor } from "./dry-run-mocks";
import { eventMatches } from "./event-inbox";
import { executeNode } from "./execute-node";
import { buildReport, type ExecutionReport } from "./report";

/**
 * A dry run: the whole DAG through the same engine (`transition`) and the same node execution
 * (`executeNode`), in an in-memory shell. Nothing leaves it: no D1 record, no Durable Object,
 * no HTTP (http nodes get the mocked responses), no email (review requests are listed and
 * decided by mocks), no LLM call (llm nodes get the mocked answers, or are mocked whole); node
 * types that could reach anything else are not executed unless mocked. Time is
 * virtual: when nothing is left to execute, the clock jumps to the next timer, so a 2-day wait
 * or a review's expiry plays out at once.
 */

/** Node types a dry run may execute for real: pure ones, and those whose only way out is a mocked port or a command. */
const executable = new Set(["http", "human"]);
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
  return new DryRunShell(request).run();
}

class DryRunShell {
  private readonly request: DryRunInput;
  private readonly plan: Plan;
  private readonly http: MockedHttp;
  private readonly llm: MockedLlm;
  private state: RunState;
  private context: JsonObject;
  private readonly versions: ExecutionReport["contextVersions"] = [];
  private readonly timers = new Map<string, Timer>();
  private readonly queue: Extract<Command, { type: "execute" }>[] = [];
  private readonly follow: Command[] = [];
  private skipped = 0;
  private readonly realStart = Date.now();
  private readonly start: number;
  private transitions = 0;
  private readonly calls: DryRunReport["calls"] = [];
  private readonly llmCalls: DryRunReport["llmCalls"] = [];
  private readonly emails: DryRunReport["emails"] = [];
  private readonly logs: DryRunReport["logs"] = [];
  private readonly mocked: DryRunReport["mocked"] = [];

  constructor(request: DryRunInput) {
    this.request = request;
    this.plan = request.plan;
    this.http = new MockedHttp(request.mocks.http);
    this.llm = new MockedLlm(request.mocks.llm);
    this.start = request.now ?? this.realStart;
    const runId = sortableId("dry", this.start);
    this.state = initialRunState(this.plan, { runId, createdAt: this.start });
    this.context = deepFreeze({
      input: request.input,
      trigger: { type: "test", id: null, receivedAt: this.start },
      run: {
        id: runId,
        workflowId: this.plan.workflowId,
        version: this.plan.version,
        depth: runDepth(this.state),
        publicUrl: request.publicUrl ?? defaultPublicUrl,
        dryRun: true,
      },
    });
    this.versions.push({ version: 0, nodeId: null, createdAt: this.start });
  }

  private now(): number {
    return this.start + (Date.now() - this.realStart) + this.skipped;
  }

  async run(): Promise<DryRunReport> {
    this.dispatch({ type: "start" });
    while (!isTerminalRun(this.state.status)) {
      const command = this.queue.shift();
      if (command) {
        await this.execute(command);
        continue;
      }
      const next = this.follow.shift();
      if (next) {
        await this.answer(next);
        continue;
      }
      if (!this.fireNextTimer()) break;
    }
    return {
      ...buildReport(this.plan, this.state, this.context, this.versions),
      dryRun: true,
      llmCalls: this.llmCalls,
      calls: this.calls,
      emails: this.emails,
      logs: this.logs,
      mocked: this.mocked,
      skippedMs: this.skipped,
    };
  }

  private dispatch(event: RunEvent): void {
    this.transitions += 1;
    if (this.transitions > maxTransitions) {
      fail("dryrun.limit_exceeded", `the dry run took more than ${maxTransitions} steps`);
    }
    const now = this.now();
    const result = transition(this.plan, this.state, event, now);
    if (!result.changed) return;
    this.state = result.state;
    for (const command of result.commands) {
      switch (command.type) {
        case "execute":
          this.queue.push(command);
          break;
        case "write-context":
          this.context = Object.freeze({ ...this.context, ...deepFreeze(command.patch) });
          this.versions.push({ version: command.version, nodeId: command.nodeId, createdAt: now });
          break;
        case "set-timer":
          this.timers.set(command.timer.id, command.timer);
          break;
        case "clear-timer":
          this.timers.delete(command.id);
          break;
        case "request-review":
          this.emails.push({
            nodeId: command.nodeId,
            attempt: command.attempt,
            round: command.round,
            purpose: command.purpose,
            to: command.approvers,
          });
          if (command.purpose !== "reminder") this.follow.push(command);
          break;
        case "await-event":
          this.follow.push(command);
          break;
        case "run-ended":
          break;
      }
    }
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
      this.dispatch({ type: "timer", timer });
    }
    return true;
  }

  private async execute(command: Extract<Command, { type: "execute" }>): Promise<void> {
    const node = this.plan.nodes[command.nodeId];
    if (!node) return;
    const mock = mockFor(this.request.mocks, node.id, command.attempt);
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
      if (mock?.outcome) this.mocked.push({ nodeId: node.id, attempt: command.attempt, what: "outcome" });
      const mocked = mock?.outcome;
      const ports: NodePorts = {
        fetch: async (request) => {
          const found = this.http.match(request.method, request.url);
          this.calls.push({
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
          this.logs.push({
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
        config: this.request.configs[node.id],
        runId: this.state.runId,
        workflowId: this.state.workflowId,
        context: this.context,
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
    this.dispatch({ type: "node-result", nodeId: command.nodeId, attempt: command.attempt, outcome });
  }

  /** Model calls answered by the llm mocks; a call none answers fails like an unmocked request. */
  private llmPort(nodeId: string, attempt: number): LlmPort {
    return {
      resolve: (target) => ({ ok: true, provider: target.provider, model: target.model ?? `${target.provider}-model` }),
      generate: async (request) => {
        const found = this.llm.match(nodeId, request.model);
        this.llmCalls.push({ nodeId, attempt, provider: request.provider, model: request.model, mocked: !!found });
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
      this.mocked.push({ nodeId: command.nodeId, attempt: command.attempt, what: "review" });
      const approvers = review.by ? [review.by] : command.approvers;
      for (const approver of approvers) {
        if (this.state.steps[command.nodeId]?.status !== "needs_review") break;
        this.dispatch({
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
      fits = await eventMatches(step, record, this.context);
    } catch {
      fits = false;
    }
    if (!fits) return;
    this.mocked.push({ nodeId: command.nodeId, attempt: command.attempt, what: "event" });
    this.dispatch({ type: "event", nodeId: command.nodeId, attempt: command.attempt, event: record });
  }
}
