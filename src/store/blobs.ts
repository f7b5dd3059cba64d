/**
 * R2 I/O for large context values. Keys are content-addressed and scoped to the run
 * (`runs/<runId>/blobs/<sha256hex>`), so identical content is stored once per run and deleting
 * a run is deleting its prefix (and its child runs', `runs/<runId>.`).
 */
import { descendantRange } from "../lib/ids";

export function runPrefix(runId: string): string {
  return `runs/${runId}/`;
}

export function blobKey(runId: string, hash: string): string {
  return `${runPrefix(runId)}blobs/${hash}`;
}

/** Writes the blob unless the run holds it already (a `head` is cheaper than re-uploading megabytes). */
export async function putBlob(bucket: R2Bucket, runId: string, hash: string, body: string): Promise<boolean> {
  const key = blobKey(runId, hash);
  if (await bucket.head(key)) return false;
  await bucket.put(key, body, { httpMetadata: { contentType: "application/json" }, sha256: hash });
  return true;
}

/** Writes a file's bytes (an email attachment) as one of the run's blobs, keyed by their SHA-256. */
export async function putFileBlob(
  bucket: R2Bucket,
  runId: string,
  hash: string,
  body: ArrayBuffer | Uint8Array,
  contentType: string,
): Promise<void> {
  await bucket.put(blobKey(runId, hash), body, { httpMetadata: { contentType }, sha256: hash });
}

/** The blob's text, or undefined when the run does not hold it. */
export async function getBlob(bucket: R2Bucket, runId: string, hash: string): Promise<string | undefined> {
  const object = await bucket.get(blobKey(runId, hash));
  return object ? object.text() : undefined;
}

/**
 * Copies a blob from one run to another (a replay takes over its original's values), as bytes
 * with its content type: a file blob is not text.
 */
export async function copyBlob(bucket: R2Bucket, fromRunId: string, toRunId: string, hash: string): Promise<boolean> {
  if (await bucket.head(blobKey(toRunId, hash))) return true;
  const object = await bucket.get(blobKey(fromRunId, hash));
  if (!object) return false;
  await bucket.put(blobKey(toRunId, hash), await object.arrayBuffer(), {
    httpMetadata: object.httpMetadata ?? { contentType: "application/json" },
    sha256: hash,
  });
  return true;
}

/** Deletes everything under the run's prefix and its child runs'; returns how many objects went. */
export async function deleteRunBlobs(bucket: R2Bucket, runId: string): Promise<number> {
  let deleted = 0;
  for (const prefix of [runPrefix(runId), `runs/${descendantRange(runId)[0]}`]) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
      const keys = page.objects.map((object) => object.key);
      if (keys.length > 0) await bucket.delete(keys);
      deleted += keys.length;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return deleted;
}
