import { r2Actions } from "../definition/schema";
import type { Env } from "../env";
import type { JsonObject } from "../lib/json";
import { fanOut, type SubscriberResult } from "./fan-out";
import { startRun } from "./start-run";

/** The body of an R2 event notification message, as R2 delivers it to a queue. */
export interface R2Notification {
  account: string;
  action: string;
  bucket: string;
  /** `size` and `eTag` are absent for deletes. */
  object: { key: string; size?: number | undefined; eTag?: string | undefined };
  eventTime: string;
  copySource?: { bucket: string; object: string };
}

/** The object-create actions: what an r2 trigger listens to unless it names its own. */
const createActions: readonly string[] = ["PutObject", "CopyObject", "CompleteMultipartUpload"];
const knownActions: ReadonlySet<string> = new Set(r2Actions);

export function filesBucketName(env: Env): string {
  return env.FILES_BUCKET_NAME || "signalbox-files";
}

export function parseR2Notification(
  value: unknown,
): { ok: true; notification: R2Notification } | { ok: false; message: string } {
  const record = (inner: unknown) =>
    typeof inner === "object" && inner !== null && !Array.isArray(inner)
      ? (inner as Record<string, unknown>)
      : undefined;
  const body = record(value);
  const object = record(body?.object);
  if (!body || !object)
    return { ok: false, message: "not an R2 event notification: expected {action, bucket, object}" };
  if (typeof body.action !== "string" || !knownActions.has(body.action)) {
    return { ok: false, message: `unknown R2 action ${JSON.stringify(body.action)}` };
  }
  if (typeof body.bucket !== "string" || body.bucket === "") return { ok: false, message: "bucket must be a string" };
  if (typeof object.key !== "string" || object.key === "") return { ok: false, message: "object.key must be a string" };
  if (object.size !== undefined && typeof object.size !== "number")
    return { ok: false, message: "object.size must be a number" };
  if (object.eTag !== undefined && typeof object.eTag !== "string")
    return { ok: false, message: "object.eTag must be a string" };
  const copy = record(body.copySource);
  return {
    ok: true,
    notification: {
      account: typeof body.account === "string" ? body.account : "",
      action: body.action,
      bucket: body.bucket,
      object: { key: object.key, size: object.size as number | undefined, eTag: object.eTag as string | undefined },
      eventTime: typeof body.eventTime === "string" ? body.eventTime : new Date().toISOString(),
      ...(copy && typeof copy.bucket === "string" && typeof copy.object === "string"
        ? { copySource: { bucket: copy.bucket, object: copy.object } }
        : {}),
    },
  };
}

/** The message R2 would send for an upload to `bucket`: what the local upload route emits. */
export function notificationFor(bucket: string, object: R2Object, account = "local"): R2Notification {
  return {
    account,
    action: "PutObject",
    bucket,
    object: { key: object.key, size: object.size, eTag: object.etag },
    eventTime: object.uploaded.toISOString(),
  };
}

/**
 * What a run gets: a reference to the object, never its bytes. Nodes read it through the
 * reference (`GET /api/files/:key` for the FILES bucket).
 */
export function objectReference(notification: R2Notification): JsonObject {
  const { bucket, action, eventTime, object } = notification;
  const reference: JsonObject = {
    ref: `r2://${bucket}/${object.key}`,
    bucket,
    key: object.key,
    size: object.size ?? null,
    etag: object.eTag ?? null,
    action,
    eventTime,
  };
  if (notification.copySource) reference.copySource = { ...notification.copySource };
  return reference;
}

/**
 * Starts a run of every workflow with an r2 trigger on the notification's bucket whose
 * actions, prefix and suffix match. The dedup key is the action, object and etag, so a
 * redelivered notification (or R2's own and the upload route's for one upload) starts one run.
 */
export async function handleR2Notification(env: Env, notification: R2Notification): Promise<SubscriberResult[]> {
  const input = objectReference(notification);
  const { key } = notification.object;
  const defaultBucket = filesBucketName(env);
  return fanOut(env, "r2", notification.bucket, null, async (workflow) => {
    for (const trigger of workflow.definition.triggers) {
      if (trigger.type !== "r2" || (trigger.bucket ?? defaultBucket) !== notification.bucket) continue;
      if (!(trigger.actions ?? createActions).includes(notification.action)) continue;
      if (!key.startsWith(trigger.prefix ?? "") || !key.endsWith(trigger.suffix ?? "")) continue;
      const result = await startRun(env, {
        workflowId: workflow.workflowId,
        triggerType: "r2",
        workflow,
        trigger,
        input,
        envelope: { body: input, notification: { ...input, account: notification.account } },
        idempotencyKey: `${notification.action}:${notification.bucket}/${key}:${notification.object.eTag ?? notification.eventTime}`,
        details: { bucket: notification.bucket, key, action: notification.action },
        receivedAt: Date.now(),
      });
      return { workflowId: workflow.workflowId, ...result };
    }
    return { workflowId: workflow.workflowId, status: "filtered" };
  });
}
