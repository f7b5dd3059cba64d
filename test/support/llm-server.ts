import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { defaultEmbeddingDimensions, fakeEmbedding, fakeTokenCount } from "./fake-embedding";

/** One scripted answer. Without `status` it is a 200 with `content` (or `json`, serialized). */
export interface LlmReply {
  status?: number;
  /** Wait this long before answering (a reply slower than the node's timeout). */
  delayMs?: number;
  content?: string;
  json?: unknown;
  usage?: { input?: number; output?: number };
  headers?: Record<string, string>;
  /** The error message of a non-2xx answer. */
  error?: string;
  /** Quote the request's credentials back in the answer, as a careless proxy might. */
  echoAuth?: boolean;
  finishReason?: string;
}

export interface LlmRecordedRequest {
  protocol: "openai" | "anthropic" | "embeddings";
  path: string;
  model: string;
  headers: IncomingHttpHeaders;
  body: {
    model?: string;
    messages?: { role: string; content: unknown }[];
    system?: unknown;
    temperature?: number;
    max_tokens?: number;
    [key: string]: unknown;
  };
  /** When it came: the model's clock (`/__llm/clock`) if the test set one, else the wall clock. */
  at: number;
  /** Answered 429 because the model's quota (`/__llm/quota`) for the minute was used up. */
  overQuota?: boolean;
}

export interface LlmServer {
  url: string;
  server: Server;
  requests: LlmRecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions (`POST .../chat/completions`),
 * OpenAI embeddings (`POST .../embeddings`: vectors from fake-embedding.ts, a token per word) and
 * Anthropic messages (`POST .../messages`), scripted per model so tests running side by side
 * do not see each other's replies (an embeddings request takes only a scripted error status):
 * - `POST /__llm/script {model, replies: LlmReply[]}` queues replies for that model;
 * - `GET /__llm/requests?model=` lists what was received (`DELETE` forgets it);
 * - an unscripted request gets `respond(request)`, else `ok`;
 * - `POST /__llm/clock {model, at}` stamps that model's requests with `at` from then on (tests
 *   drive time, they do not wait for it); `POST /__llm/quota {model, requestsPerMinute}` makes the
 *   server hold that model to a quota as a provider does: a request that would make more than
 *   that many in the last minute (by the model's clock) is answered 429 with Retry-After.
 */
export async function startLlmServer(
  options: { port?: number; respond?: (request: LlmRecordedRequest) => LlmReply | undefined } = {},
): Promise<LlmServer> {
  const requests: LlmRecordedRequest[] = [];
  const scripts = new Map<string, LlmReply[]>();
  const clocks = new Map<string, number>();
  const quotas = new Map<string, number>();
  let sequence = 0;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(typeof payload === "string" ? payload : JSON.stringify(payload));
      };
      const text = Buffer.concat(chunks).toString("utf8");
      if (url.pathname === "/__llm/script" && request.method === "POST") {
        const script = JSON.parse(text) as { model: string; replies: LlmReply[] };
        scripts.set(script.model, [...(scripts.get(script.model) ?? []), ...script.replies]);
        return send(200, { ok: true });
      }
      if (url.pathname === "/__llm/clock" && request.method === "POST") {
        const clock = JSON.parse(text) as { model: string; at: number };
        clocks.set(clock.model, clock.at);
        return send(200, { ok: true });
      }
      if (url.pathname === "/__llm/quota" && request.method === "POST") {
        const quota = JSON.parse(text) as { model: string; requestsPerMinute: number };
        quotas.set(quota.model, quota.requestsPerMinute);
        return send(200, { ok: true });
      }
      if (url.pathname === "/__llm/requests") {
        if (request.method === "DELETE") requests.length = 0;
        const model = url.searchParams.get("model");
        return send(200, model ? requests.filter((entry) => entry.model === model) : requests);
      }
      const protocol = url.pathname.endsWith("/chat/completions")
        ? "openai"
        : url.pathname.endsWith("/messages")
          ? "anthropic"
          : url.pathname.endsWith("/embeddings")
            ? "embeddings"
            : undefined;
      if (!protocol || request.method !== "POST") return send(404, { error: { message: "not found" } });
      let body: LlmRecordedRequest["body"] = {};
      try {
        body = JSON.parse(text) as LlmRecordedRequest["body"];
      } catch {}
      const recorded: LlmRecordedRequest = {
        protocol,
        path: url.pathname,
        model: String(body.model ?? ""),
        headers: request.headers,
        body,
        at: clocks.get(String(body.model ?? "")) ?? Date.now(),
      };
      const quota = quotas.get(recorded.model);
      const lastMinute = requests.filter(
        (entry) => entry.model === recorded.model && !entry.overQuota && entry.at > recorded.at - 60_000,
      );
      if (quota !== undefined && lastMinute.length >= quota) recorded.overQuota = true;
      requests.push(recorded);
      if (recorded.overQuota) {
        const oldest = Math.min(...lastMinute.map((entry) => entry.at));
        const retryAfter = String(Math.max(1, Math.ceil((oldest + 60_000 - recorded.at) / 1_000)));
        const error = { error: { message: "requests per minute exceeded", type: "rate_limit_error" } };
        return send(429, error, { "retry-after": retryAfter });
      }
      const reply = scripts.get(recorded.model)?.shift() ?? options.respond?.(recorded) ?? { content: "ok" };
      const answer = () => {
        sequence += 1;
        const status = reply.status ?? 200;
        if (status >= 300) {
          const credentials = String(request.headers.authorization ?? request.headers["x-api-key"] ?? "");
          const message = `${reply.error ?? `scripted ${status}`}${reply.echoAuth ? ` (you sent ${credentials})` : ""}`;
          const error =
            protocol !== "anthropic"
              ? { error: { message, type: status === 429 ? "rate_limit_error" : "server_error" } }
              : { type: "error", error: { type: status === 429 ? "rate_limit_error" : "api_error", message } };
          return send(status, error, reply.headers);
        }
        if (protocol === "embeddings") {
          const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
          const dimensions = typeof body.dimensions === "number" ? body.dimensions : defaultEmbeddingDimensions;
          const tokens = inputs.reduce((sum, text) => sum + fakeTokenCount(text), 0);
          return send(
            200,
            {
              object: "list",
              data: inputs.map((text, index) => ({
                object: "embedding",
                index,
                embedding: fakeEmbedding(text, dimensions),
              })),
              model: recorded.model,
              usage: { prompt_tokens: tokens, total_tokens: tokens },
            },
            reply.headers,
          );
        }
        const content = reply.content ?? (reply.json !== undefined ? JSON.stringify(reply.json) : "ok");
        const input = reply.usage?.input ?? 10;
        const output = reply.usage?.output ?? 5;
        if (protocol === "openai") {
          return send(
            200,
            {
              id: `chatcmpl-${sequence}`,
              object: "chat.completion",
              created: Math.floor(Date.now() / 1000),
              model: recorded.model,
              choices: [
                {
                  index: 0,
                  message: { role: "assistant", content },
                  finish_reason: reply.finishReason ?? "stop",
                },
              ],
              usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
            },
            reply.headers,
          );
        }
        return send(
          200,
          {
            id: `msg_${sequence}`,
            type: "message",
            role: "assistant",
            model: recorded.model,
            content: [{ type: "text", text: content }],
            stop_reason: reply.finishReason ?? "end_turn",
            stop_sequence: null,
            usage: { input_tokens: input, output_tokens: output },
          },
          reply.headers,
        );
      };
      if (!reply.delayMs) return answer();
      const timer = setTimeout(answer, reply.delayMs);
      // A caller that gives up (a timeout) closes the socket; stop waiting for it.
      response.on("close", () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
