import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

/**
 * A real HTTP server on 127.0.0.1 that http nodes call in tests. Routes:
 * - `/status/:code`: answers that status (with `?retryAfter=s` a Retry-After header);
 * - `/delay/:ms`: answers 200 after that many milliseconds (for node timeouts);
 * - `/large/:bytes`: 200 with a JSON document `{count, items}` of about that many bytes (`?seed=` varies it);
 * - `/sized/:bytes?as=length|chunked|gzip`: 200 with a JSON string of exactly that many bytes, sent with a
 *   Content-Length, in chunks of unknown length, or gzipped (Content-Length of the compressed bytes);
 * - `/echo` and anything else: 200 with `{ok, path, body}` as JSON;
 * - `GET /__requests` lists what was received; `DELETE /__requests` forgets it.
 * Scripted replies: `POST /__script {path, responses: [{status, body, headers}]}` answers the
 * next requests to `path` with those, in order.
 */
export async function startTestServer(): Promise<{
  url: string;
  server: Server;
  requests: RecordedRequest[];
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, { status: number; body?: unknown; headers?: Record<string, string> }[]>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(payload));
      };
      if (url.pathname === "/__requests") {
        if (request.method === "DELETE") requests.length = 0;
        return reply(200, requests);
      }
      if (url.pathname === "/__script") {
        const script = JSON.parse(body) as { path: string; responses: { status: number; body?: unknown }[] };
        scripts.set(script.path, [...script.responses]);
        return reply(200, { ok: true });
      }
      requests.push({
        method: request.method ?? "GET",
        path: url.pathname + url.search,
        headers: request.headers,
        body,
        at: Date.now(),
      });
      const scripted = scripts.get(url.pathname)?.shift();
      if (scripted) return reply(scripted.status, scripted.body ?? {}, scripted.headers);
      const delay = /^\/delay\/(\d+)$/.exec(url.pathname);
      if (delay) {
        const timer = setTimeout(() => reply(200, { delayed: Number(delay[1]) }), Number(delay[1]));
        // A caller that gives up (a node timeout) closes the socket; stop waiting for it.
        response.on("close", () => clearTimeout(timer));
        return;
      }
      const sized = /^\/sized\/(\d+)$/.exec(url.pathname);
      if (sized) return sendSized(response, Number(sized[1]), url.searchParams.get("as") ?? "length");
      const large = /^\/large\/(\d+)$/.exec(url.pathname);
      if (large) return reply(200, largeDocument(Number(large[1]), url.searchParams.get("seed") ?? ""));
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (status) {
        const retryAfter = url.searchParams.get("retryAfter");
        return reply(Number(status[1]), { status: Number(status[1]) }, retryAfter ? { "retry-after": retryAfter } : {});
      }
      let parsed: unknown = body;
      try {
        parsed = body ? JSON.parse(body) : null;
      } catch {}
      return reply(200, { ok: true, path: url.pathname, body: parsed });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A deterministic JSON document of about `bytes` bytes: items of 1 KiB-ish text, and how many. */
export function largeDocument(bytes: number, seed = ""): { count: number; items: { i: number; text: string }[] } {
  const text = `${seed}${"x".repeat(1_000)}`;
  const count = Math.max(1, Math.floor(bytes / (text.length + 24)));
  return { count, items: Array.from({ length: count }, (_, i) => ({ i, text })) };
}

/** A JSON string of exactly `bytes` bytes, framed as `as` says (see the routes above). */
function sendSized(response: ServerResponse, bytes: number, as: string): void {
  const body = Buffer.from(JSON.stringify("x".repeat(Math.max(0, bytes - 2))));
  if (as === "chunked") {
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    const half = Math.floor(body.length / 2);
    response.write(body.subarray(0, half));
    response.end(body.subarray(half));
    return;
  }
  const sent = as === "gzip" ? gzipSync(body) : body;
  response.writeHead(200, {
    "content-type": "application/json",
    "content-length": String(sent.length),
    ...(as === "gzip" ? { "content-encoding": "gzip" } : {}),
  });
  response.end(sent);
}
