// The harness's own HTTP server on 127.0.0.1. Workflows call it from a step ("ping"), which
// tells the harness, on its own clock, when a run reached that point: no polling involved.
import { createServer } from "node:http";

/** `{items: [{i, text}...]}` of about `bytes` serialized. */
function document(bytes) {
  const text = "x".repeat(100);
  const count = Math.max(1, Math.floor(bytes / 120));
  return JSON.stringify({ items: Array.from({ length: count }, (_, i) => ({ i, text })) });
}

export async function startPings() {
  const seen = new Map(); // runId -> Map(label -> performance.now() at arrival)
  const waiters = new Map(); // "runId label" -> [resolve]
  const counts = new Map(); // label -> number of pings
  const docs = new Map(); // bytes -> a JSON document of about that size
  const server = createServer((request, response) => {
    const at = performance.now();
    if (request.method === "GET" && request.url.startsWith("/doc/")) {
      const bytes = Number(request.url.split("/")[2]);
      if (!docs.has(bytes)) docs.set(bytes, Buffer.from(document(bytes)));
      const body = docs.get(bytes);
      response.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      response.end(body);
      return;
    }
    const label = decodeURIComponent(request.url.split("/")[2] ?? "");
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "2" });
      response.end("{}");
      let runId;
      try {
        runId = JSON.parse(Buffer.concat(chunks).toString("utf8")).run;
      } catch {
        return;
      }
      if (!seen.has(runId)) seen.set(runId, new Map());
      const times = seen.get(runId);
      if (times.has(label)) return; // a retried step pings again: keep the first
      times.set(label, at);
      counts.set(label, (counts.get(label) ?? 0) + 1);
      const key = `${runId} ${label}`;
      for (const resolve of waiters.get(key) ?? []) resolve(at);
      waiters.delete(key);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Arrival time of `label` for `runId`, waiting for it up to `timeoutMs`. */
    wait(runId, label, timeoutMs = 30_000) {
      const known = seen.get(runId)?.get(label);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const key = `${runId} ${label}`;
        const timer = setTimeout(
          () => reject(new Error(`no ping ${label} from ${runId} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const list = waiters.get(key) ?? [];
        list.push((at) => {
          clearTimeout(timer);
          resolve(at);
        });
        waiters.set(key, list);
      });
    },
    time: (runId, label) => seen.get(runId)?.get(label),
    count: (label) => counts.get(label) ?? 0,
    close: () => new Promise((done) => server.close(done)),
  };
}
