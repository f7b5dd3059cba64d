import { approvalDecisions, escalationDecisions, type NodeOutcome, type ReviewDecision } from "../engine/outcome";
import type { Plan } from "../engine/plan";
import { type ErrorCode, type ErrorData, errorData, errorStatus } from "../errors";
import type { Json, JsonObject } from "../lib/json";

/**
 * What a dry run is told instead of the outside world. Per node, one mock or a list (attempt n
 * takes the n-th, the last one repeats):
 * - `{output, route?}` or `{error: {code?, message?, retryable?}}` replace the node's execution;
 * - `{review: {decision, by?, comment?, edits?, output?}}` lets the node run and decides the
 *   review it asks for (an approval, or an escalation of its failure);
 * - `{event: {payload?, id?}}` lets a `wait` for an event run and delivers that event to it.
 * `http` mocks answer the requests of http nodes that run: `{method?, url, status?, headers?, body?}`,
 * `url` exact or a prefix ending in `*`; the first unused match answers, the last match repeats.
 * `llm` mocks answer the model calls of llm nodes that run, in the same way:
 * `{node?, model?, text? | json?, usage?: {input?, output?}, error?: {code?, message?, retryable?}}`.
 */
export interface NodeMock {
  outcome?: NodeOutcome;
  review?: { decision: ReviewDecision; by?: string; comment?: string; edits?: JsonObject; output?: JsonObject };
  event?: { payload: Json; id?: string };
}

export interface HttpMock {
  method?: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Json;
}

export interface LlmMock {
  node?: string;
  model?: string;
  /** The model's answer (`json` is sent as its JSON text). */
  text: string;
  usage: { inputTokens: number; outputTokens: number };
  error?: ErrorData;
}

export interface Mocks {
  nodes: Record<string, NodeMock[]>;
  http: HttpMock[];
  llm: LlmMock[];
}

export type MocksResult = { ok: true; mocks: Mocks } | { ok: false; error: ErrorData };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Invalid extends Error {}

function invalid(message: string): never {
  throw new Invalid(message);
}

function nodeMock(plan: Plan, nodeId: string, raw: Json, where: string): NodeMock {
  if (!isObject(raw)) invalid(`${where} must be an object`);
  const known = ["output", "route", "error", "review", "event"];
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length > 0) invalid(`${where} has unknown fields ${unknown.join(", ")} (expected ${known.join(", ")})`);
  const mock: NodeMock = {};
  if (raw.error !== undefined) {
    if (raw.output !== undefined) invalid(`${where} cannot give both output and error`);
    const error = raw.error;
    if (!isObject(error)) invalid(`${where}.error must be an object {code?, message?, retryable?}`);
    const code = error.code ?? "node.failed";
    if (typeof code !== "string" || !(code in errorStatus)) invalid(`${where}.error.code is not a known error code`);
    mock.outcome = {
      type: "failure",
      error: errorData(code as ErrorCode, typeof error.message === "string" ? error.message : `mocked ${code}`, {
        retryable: error.retryable === true,
      }),
    };
  } else if (raw.output !== undefined || raw.route !== undefined) {
    const output = raw.output ?? {};
    if (!isObject(output)) invalid(`${where}.output must be an object of context keys`);
    let route: string[] | undefined;
    if (raw.route !== undefined) {
      const succs = plan.nodes[nodeId]?.succs ?? [];
      if (
        !Array.isArray(raw.route) ||
        raw.route.some((target) => typeof target !== "string" || !succs.includes(target))
      ) {
        invalid(`${where}.route must list successors of ${nodeId} (${succs.join(", ") || "none"})`);
      }
      route = raw.route as string[];
    }
    mock.outcome = route ? { type: "success", output, route } : { type: "success", output };
  }
  if (raw.review !== undefined) {
    const review = raw.review;
    const decisions: readonly string[] = [...approvalDecisions, ...escalationDecisions];
    if (!isObject(review) || typeof review.decision !== "string" || !decisions.includes(review.decision)) {
      invalid(`${where}.review must be {decision: ${decisions.join(" | ")}, by?, comment?, edits?, output?}`);
    }
    if (review.edits !== undefined && !isObject(review.edits)) invalid(`${where}.review.edits must be an object`);
    if (review.output !== undefined && !isObject(review.output)) invalid(`${where}.review.output must be an object`);
    mock.review = {
      decision: review.decision as ReviewDecision,
      ...(typeof review.by === "string" ? { by: review.by } : {}),
      ...(typeof review.comment === "string" ? { comment: review.comment } : {}),
      ...(isObject(review.edits) ? { edits: review.edits } : {}),
      ...(isObject(review.output) ? { output: review.output } : {}),
    };
  }
  if (raw.event !== undefined) {
    if (!isObject(raw.event)) invalid(`${where}.event must be {payload?, id?}`);
    mock.event = {
      payload: raw.event.payload ?? null,
      ...(typeof raw.event.id === "string" ? { id: raw.event.id } : {}),
    };
  }
  return mock;
}

function httpMock(raw: Json, where: string): HttpMock {
  if (!isObject(raw) || typeof raw.url !== "string" || raw.url === "")
    invalid(`${where} must be {url, method?, status?, headers?, body?}`);
  const status = raw.status ?? 200;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    invalid(`${where}.status must be an HTTP status from 200 to 599`);
  }
  const headers = raw.headers ?? {};
  if (!isObject(headers) || Object.values(headers).some((value) => typeof value !== "string")) {
    invalid(`${where}.headers must map names to strings`);
  }
  return {
    url: raw.url,
    status,
    headers: headers as Record<string, string>,
    body: raw.body ?? null,
    ...(typeof raw.method === "string" ? { method: raw.method.toUpperCase() } : {}),
  };
}

function count(value: Json | undefined, where: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) invalid(`${where} must be a token count`);
  return value;
}

function llmMock(plan: Plan, raw: Json, where: string): LlmMock {
  if (!isObject(raw)) invalid(`${where} must be {node?, model?, text? | json?, usage?, error?}`);
  const known = ["node", "model", "text", "json", "usage", "error"];
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
  if (unknown.length > 0) invalid(`${where} has unknown fields ${unknown.join(", ")} (expected ${known.join(", ")})`);
  if (raw.node !== undefined && (typeof raw.node !== "string" || plan.nodes[raw.node]?.type !== "llm")) {
    invalid(`${where}.node must name an llm node of the workflow`);
  }
  if (raw.model !== undefined && typeof raw.model !== "string") invalid(`${where}.model must be a string`);
  if (raw.text !== undefined && typeof raw.text !== "string") invalid(`${where}.text must be a string`);
  const usage = raw.usage ?? {};
  if (!isObject(usage)) invalid(`${where}.usage must be {input?, output?}`);
  const mock: LlmMock = {
    text: typeof raw.text === "string" ? raw.text : raw.json !== undefined ? JSON.stringify(raw.json) : "",
    usage: {
      inputTokens: count(usage.input, `${where}.usage.input`),
      outputTokens: count(usage.output, `${where}.usage.output`),
    },
    ...(typeof raw.node === "string" ? { node: raw.node } : {}),
    ...(typeof raw.model === "string" ? { model: raw.model } : {}),
  };
  if (raw.error !== undefined) {
    const error = raw.error;
    if (!isObject(error)) invalid(`${where}.error must be an object {code?, message?, retryable?}`);
    const code = error.code ?? "llm.provider_error";
    if (typeof code !== "string" || !(code in errorStatus)) invalid(`${where}.error.code is not a known error code`);
    mock.error = errorData(code as ErrorCode, typeof error.message === "string" ? error.message : `mocked ${code}`, {
      retryable: error.retryable === true,
    });
  } else if (raw.text === undefined && raw.json === undefined) {
    invalid(`${where} needs text, json or error`);
  }
  return mock;
}

/** Checks a request's (or a test case's) mocks against the plan: unknown nodes and shapes are refused. */
export function parseMocks(plan: Plan, nodes: Json | undefined, http: Json | undefined, llm?: Json): MocksResult {
  try {
    const mocks: Mocks = { nodes: {}, http: [], llm: [] };
    if (nodes !== undefined && nodes !== null) {
      if (!isObject(nodes)) invalid("mocks must map node ids to mocks");
      for (const [nodeId, raw] of Object.entries(nodes)) {
        if (!plan.nodes[nodeId]) invalid(`mocks.${nodeId}: the workflow has no node ${nodeId}`);
        const list = Array.isArray(raw) ? raw : [raw];
        if (list.length === 0) invalid(`mocks.${nodeId} is an empty list`);
        mocks.nodes[nodeId] = list.map((entry, index) =>
          nodeMock(plan, nodeId, entry, Array.isArray(raw) ? `mocks.${nodeId}[${index}]` : `mocks.${nodeId}`),
        );
      }
    }
    if (http !== undefined && http !== null) {
      if (!Array.isArray(http)) invalid("http must be a list of {url, method?, status?, headers?, body?}");
      mocks.http = http.map((entry, index) => httpMock(entry, `http[${index}]`));
    }
    if (llm !== undefined && llm !== null) {
      if (!Array.isArray(llm)) invalid("llm must be a list of {node?, model?, text? | json?, usage?, error?}");
      mocks.llm = llm.map((entry, index) => llmMock(plan, entry, `llm[${index}]`));
    }
    return { ok: true, mocks };
  } catch (thrown) {
    if (thrown instanceof Invalid) return { ok: false, error: errorData("dryrun.mock_invalid", thrown.message) };
    throw thrown;
  }
}

/** The mock for attempt `attempt` (1-based): the list's entry, the last one repeating. */
export function mockFor(mocks: Mocks, nodeId: string, attempt: number): NodeMock | undefined {
  const list = mocks.nodes[nodeId];
  if (!list || list.length === 0) return undefined;
  return list[Math.min(attempt, list.length) - 1];
}

/** Answers model calls from the llm mocks: the first unused one for the node and model, the last repeating. */
export class MockedLlm {
  private readonly mocks: readonly LlmMock[];
  private readonly used = new Set<number>();

  constructor(mocks: readonly LlmMock[]) {
    this.mocks = mocks;
  }

  match(nodeId: string, model: string): LlmMock | undefined {
    const matches: number[] = [];
    for (const [index, mock] of this.mocks.entries()) {
      if ((mock.node === undefined || mock.node === nodeId) && (mock.model === undefined || mock.model === model)) {
        matches.push(index);
      }
    }
    const pick = matches.find((index) => !this.used.has(index)) ?? matches.at(-1);
    if (pick === undefined) return undefined;
    this.used.add(pick);
    return this.mocks[pick];
  }
}

/** Answers requests from the http mocks, in order; every request is recorded. */
export class MockedHttp {
  private readonly mocks: readonly HttpMock[];
  private readonly used = new Set<number>();

  constructor(mocks: readonly HttpMock[]) {
    this.mocks = mocks;
  }

  match(method: string, url: string): HttpMock | undefined {
    const matches: number[] = [];
    for (const [index, mock] of this.mocks.entries()) {
      if (mock.method !== undefined && mock.method !== method) continue;
      const fits = mock.url.endsWith("*") ? url.startsWith(mock.url.slice(0, -1)) : url === mock.url;
      if (fits) matches.push(index);
    }
    const pick = matches.find((index) => !this.used.has(index)) ?? matches.at(-1);
    if (pick === undefined) return undefined;
    this.used.add(pick);
    return this.mocks[pick];
  }
}
