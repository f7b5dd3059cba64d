import { Hono } from "hono";
import type { Env } from "../env";
import { fail } from "../errors";
import { filesBucketName, notificationFor } from "../triggers/r2-events";
import { allow } from "./auth";
import { answer, errors, pathParam, spec } from "./openapi-spec";

export const fileRoutes = new Hono<{ Bindings: Env }>();

/**
 * The upload is buffered in the Worker (128 MB of memory), so it is capped well below that;
 * larger files go to R2 directly, and R2's own notifications start their runs.
 */
const maxUploadBytes = 32 * 1024 * 1024;

function checkKey(key: string): string {
  const bytes = new TextEncoder().encode(key).length;
  if (bytes === 0 || bytes > 1024 || key.startsWith("/") || key.split("/").includes("..")) {
    fail("request.invalid", "a file key is 1 to 1024 bytes, not starting with / and without .. segments");
  }
  return key;
}

function keyOf(path: string): string {
  // Everything after /api/files/, percent-decoded: keys may contain slashes.
  const raw = path.replace(/^\/api\/files\//, "");
  try {
    return checkKey(decodeURIComponent(raw));
  } catch (thrown) {
    if (thrown instanceof URIError) fail("request.invalid", "the file key is not valid percent-encoding");
    throw thrown;
  }
}

/**
 * Stores the body in the FILES bucket and, as R2 would with event notifications enabled,
 * sends the notification message to the R2 events queue: r2 triggers start runs from it.
 * Locally R2 sends no notifications, so this route is how uploads reach workflows; set
 * FILES_EMIT_NOTIFICATIONS=false where R2's own notifications are configured.
 */
fileRoutes.put(
  "/:key{.+}",
  spec({
    summary: "Upload to the FILES bucket; emits the R2 event notification that r2 triggers start from",
    parameters: [pathParam("key", "the object key; may hold slashes")],
    responses: { "201": answer("{bucket, key, size, etag, notified}"), ...errors(400, 401, 413) },
  }),
  allow("files.write"),
  async (c) => {
    const key = keyOf(new URL(c.req.url).pathname);
    const length = Number(c.req.header("content-length") ?? Number.NaN);
    if (Number.isFinite(length) && length > maxUploadBytes) {
      fail("request.too_large", `uploads through the API are limited to ${maxUploadBytes} bytes`);
    }
    const body = await c.req.arrayBuffer();
    if (body.byteLength > maxUploadBytes) fail("request.too_large", `uploads are limited to ${maxUploadBytes} bytes`);
    const contentType = c.req.header("content-type");
    const object = await c.env.FILES.put(key, body, contentType ? { httpMetadata: { contentType } } : undefined);
    const bucket = filesBucketName(c.env);
    const notify = c.env.FILES_EMIT_NOTIFICATIONS !== "false";
    if (notify) await c.env.R2_EVENTS_QUEUE.send(notificationFor(bucket, object), { contentType: "json" });
    return c.json({ bucket, key, size: object.size, etag: object.etag, notified: notify }, 201);
  },
);

/** Reads a file back: how a run follows the reference an r2 trigger put in its input. */
fileRoutes.get(
  "/:key{.+}",
  spec({
    summary: "Read a file back (how a run follows its object reference)",
    parameters: [pathParam("key", "the object key; may hold slashes")],
    responses: { "200": { description: "the file, with its stored content type" }, ...errors(401, 404) },
  }),
  allow("files.read"),
  async (c) => {
    const key = keyOf(new URL(c.req.url).pathname);
    const object = await c.env.FILES.get(key);
    if (!object) fail("file.not_found", `no file ${key}`);
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set("etag", object.httpEtag);
    headers.set("content-length", String(object.size));
    return new Response(object.body, { headers });
  },
);
