import { z } from "zod";
import type { NodeOutcome } from "../engine/outcome";
import { errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { renderTemplate } from "../expr/template";
import { type Json, type JsonObject, toJson } from "../lib/json";
import { limitName } from "../limits/settings";
import type { CallReport } from "../limits/types";
import { circuitOpenActions, passLimit } from "./limits";
import { defineCompensation, defineNode, type ExpressionSite, type NodeContext } from "./types";

const statusRange = z.union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/)]);

const config = z.strictObject({
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("GET"),
  /** `{{ expr }}` template. */
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).default({}),
  /** JSONata expression whose value is sent as the JSON body. */
  body: z.string().optional(),
  expectStatus: z.array(statusRange).min(1).default(["2xx"]),
  /** Context key that receives the (mapped) response. */
  output: z.string().min(1).optional(),
  /** JSONata over `{status, headers, body}`; by default the whole response is stored. */
  map: z.string().optional(),
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .max(10 * 1024 * 1024)
    .default(1024 * 1024),
  /** A limit of the LIMITS var this call goes through; without it, the limit of the URL's host (`http:<host>`), if any. */
  limit: limitName.optional(),
  /** When the limit's circuit is open: wait on the run's alarm (default), or fail at once with `circuit.open`. */
  onCircuitOpen: z.enum(circuitOpenActions).default("wait"),
});
type HttpConfig = z.infer<typeof config>;

/**
 * A `compensate` of an http node: the request that undoes the step's own (a DELETE, a reversal
 * POST). Its templates see the context with `output`, the value the step wrote. Every attempt
 * sends one Idempotency-Key: `idempotencyKey` rendered, or `<runId>:<nodeId>:compensate`.
 */
const compensateConfig = z.strictObject({
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("POST"),
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  expectStatus: z.array(statusRange).min(1).default(["2xx"]),
  idempotencyKey: z.string().min(1).max(1_000).optional(),
});

function expected(status: number, accepted: HttpConfig["expectStatus"]): boolean {
  return accepted.some((entry) =>
    typeof entry === "number" ? entry === status : Math.floor(status / 100) === Number(entry[0]),
  );
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

async function readBody(response: Response, limit: number): Promise<string | undefined> {
  const length = response.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > limit || !response.body) return declared > limit ? undefined : "";
  // A declared length within the limit is held to by the runtime: read it in one go. A body of
  // unknown length, or compressed (the length is of the compressed bytes), is streamed and counted.
  const encoding = response.headers.get("content-encoding");
  const plain = encoding === null || encoding === "identity";
  if (length !== null && plain && Number.isInteger(declared) && declared >= 0) return response.text();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function parseBody(text: string, contentType: string | null): Json {
  if (contentType?.includes("json") && text !== "") {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

function failure(
  code: Parameters<typeof errorData>[0],
  message: string,
  retryable: boolean,
  extra = {},
): Extract<NodeOutcome, { type: "failure" }> {
  return { type: "failure", error: errorData(code, message, { retryable, ...extra }) };
}

type RequestConfig = Pick<HttpConfig, "method" | "url" | "headers" | "body" | "expectStatus" | "maxResponseBytes">;

/** Renders and sends the request; a response outside `expectStatus` is a failure. */
async function send(
  c: RequestConfig,
  node: NodeContext,
  key: string,
  /** The step's own call goes through its provider limit (LIMITS, docs/limits.md); a compensation's does not. */
  limited?: Pick<HttpConfig, "limit" | "onCircuitOpen">,
): Promise<{ type: "sent"; response: JsonObject } | Extract<NodeOutcome, { type: "failure" | "deferred" }>> {
  const url = await renderTemplate(c.url, node.context);
  const headers = new Headers();
  for (const [name, value] of Object.entries(c.headers)) headers.set(name, await renderTemplate(value, node.context));
  if (!headers.has("idempotency-key")) headers.set("Idempotency-Key", key);
  let body: string | undefined;
  if (c.body !== undefined && c.method !== "GET" && c.method !== "HEAD") {
    body = JSON.stringify(toJson(await evaluate(c.body, node.context)));
    if (!headers.has("content-type")) headers.set("Content-Type", "application/json");
  }
  let request: Request;
  try {
    request = new Request(url, { method: c.method, headers, body: body ?? null, signal: node.signal });
  } catch (thrown) {
    return failure("node.failed", `http: invalid request to ${JSON.stringify(url)}: ${String(thrown)}`, false);
  }
  const pass = limited
    ? await passLimit(
        node.ports.limits?.forHttp(new URL(request.url), limited.limit),
        { key, timeoutMs: node.timeoutMs ?? 30_000 },
        limited.onCircuitOpen,
        node.now,
      )
    : undefined;
  if (pass && !pass.go) return pass.outcome;
  const report = async (outcome: CallReport["outcome"], extra: Omit<CallReport, "key" | "outcome"> = {}) =>
    pass?.limit?.report({ key, outcome, ...extra });
  let response: Response;
  try {
    response = await node.ports.fetch(request);
  } catch (thrown) {
    await report("failure", { code: node.signal.aborted ? "node.timeout" : "node.http_network" });
    if (node.signal.aborted) return failure("node.timeout", `http: ${c.method} ${url} timed out`, true);
    return failure("node.http_network", `http: ${c.method} ${url} failed: ${String(thrown)}`, true);
  }
  // A 5xx counts against the circuit; a 429's Retry-After holds back every call of the limit.
  const waitMs = response.status === 429 ? retryAfterMs(response.headers.get("retry-after"), node.now) : undefined;
  await report(response.status >= 500 ? "failure" : "ok", {
    ...(response.status >= 500 ? { code: `http ${response.status}` } : {}),
    ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}),
  });
  const text = await readBody(response, c.maxResponseBytes);
  if (text === undefined) {
    return failure("node.http_response_too_large", `http: response over ${c.maxResponseBytes} bytes`, false);
  }
  const result: JsonObject = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: parseBody(text, response.headers.get("content-type")),
  };
  if (!expected(response.status, c.expectStatus)) {
    const status = response.status;
    const retryable = status === 408 || status === 429 || status >= 500;
    return failure("node.http_status", `http: ${c.method} ${url} answered ${status}`, retryable, {
      retryAfterMs: retryAfterMs(response.headers.get("retry-after"), node.now),
      details: { status, body: result.body },
    });
  }
  return { type: "sent", response: result };
}

function requestSites(c: Pick<RequestConfig, "url" | "headers" | "body">): ExpressionSite[] {
  const sites: ExpressionSite[] = [{ path: ["url"], source: c.url, template: true }];
  for (const [name, value] of Object.entries(c.headers))
    sites.push({ path: ["headers", name], source: value, template: true });
  if (c.body !== undefined) sites.push({ path: ["body"], source: c.body });
  return sites;
}

export const httpNode = defineNode({
  type: "http",
  kind: "io",
  dispatch: "queue",
  config,
  defaultTimeoutMs: 30_000,
  defaultMaxAttempts: 3,
  expressions(c) {
    const sites = requestSites(c);
    if (c.map !== undefined) sites.push({ path: ["map"], source: c.map });
    return sites;
  },
  writes: (c) => (c.output ? [c.output] : []),
  async execute(c, node) {
    const sent = await send(c, node, node.idempotencyKey, { limit: c.limit, onCircuitOpen: c.onCircuitOpen });
    if (sent.type !== "sent") return sent;
    if (!c.output) return { type: "success", output: {} };
    const value = c.map === undefined ? sent.response : toJson(await evaluate(c.map, sent.response));
    return { type: "success", output: { [c.output]: value } };
  },
  compensation: defineCompensation({
    config: compensateConfig,
    expressions(c) {
      const sites: ExpressionSite[] = requestSites(c);
      if (c.idempotencyKey !== undefined)
        sites.push({ path: ["idempotencyKey"], source: c.idempotencyKey, template: true });
      return sites;
    },
    async execute(c, node) {
      // Every attempt of one compensation sends the same key: the receiver undoes it at most once.
      const key =
        c.idempotencyKey === undefined ? node.idempotencyKey : await renderTemplate(c.idempotencyKey, node.context);
      const sent = await send({ ...c, maxResponseBytes: 1024 * 1024 }, node, key);
      return sent.type === "sent" ? { type: "success", output: {} } : sent;
    },
  }),
});
