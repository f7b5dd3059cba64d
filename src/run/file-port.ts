import type { Env } from "../env";
import type { FilePort, FileRead } from "../nodes/types";
import { blobKey } from "../store/blobs";
import { filesBucketName } from "../triggers/r2-events";

const encoder = new TextEncoder();

/**
 * The file port the run shell hands to nodes: objects of the FILES bucket (uploads, r2 trigger
 * objects, email attachments) by key, and this run's large context values by hash. Nodes never
 * see a binding; a bucket other than FILES is refused rather than guessed at.
 */
export function filePortFor(env: Env, runId: string): FilePort {
  const files = filesBucketName(env);
  return {
    async read(location, maxBytes): Promise<FileRead> {
      if ("blob" in location) {
        const object = await env.BLOBS.get(blobKey(runId, location.blob));
        if (!object) return { ok: false, reason: "not_found" };
        if (object.size > maxBytes) return { ok: false, reason: "too_large", size: object.size };
        if (location.raw) {
          const bytes = new Uint8Array(await object.arrayBuffer());
          const contentType = object.httpMetadata?.contentType;
          return { ok: true, bytes, size: bytes.byteLength, ...(contentType ? { contentType } : {}) };
        }
        // A context value is JSON: a string is the text itself, anything else stays JSON.
        const value: unknown = JSON.parse(await object.text());
        if (typeof value === "string") {
          const bytes = encoder.encode(value);
          return { ok: true, bytes, size: bytes.byteLength, contentType: "text/plain; charset=utf-8" };
        }
        const bytes = encoder.encode(JSON.stringify(value));
        return { ok: true, bytes, size: bytes.byteLength, contentType: "application/json" };
      }
      if (location.bucket !== undefined && location.bucket !== files) return { ok: false, reason: "unknown_bucket" };
      // The size first, so a file over the limit is never downloaded.
      const head = await env.FILES.head(location.key);
      if (!head) return { ok: false, reason: "not_found" };
      if (head.size > maxBytes) return { ok: false, reason: "too_large", size: head.size };
      const object = await env.FILES.get(location.key);
      if (!object) return { ok: false, reason: "not_found" };
      const bytes = new Uint8Array(await object.arrayBuffer());
      const contentType = object.httpMetadata?.contentType;
      return { ok: true, bytes, size: bytes.byteLength, ...(contentType ? { contentType } : {}) };
    },
  };
}
