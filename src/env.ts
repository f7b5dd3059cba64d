import type { RunObject } from "./run/run-object";
import type { ScheduleObject } from "./triggers/schedule-object";

export interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<RunObject>;
  /** Bearer token every /api route requires (a Worker secret; `.dev.vars` locally). */
  API_TOKEN?: string;
  DEDUP_WINDOW_DEFAULT?: string;
  /** Where approval links point: this Worker's public origin (e.g. https://signalbox.example.com). */
  PUBLIC_URL?: string;
  /** Key for the approval pages' CSRF tokens (a secret); falls back to a key derived from API_TOKEN. */
  APPROVAL_SECRET?: string;
  /** How email leaves: `outbox` (D1 only, the default), `binding` (send_email) or `http` (an email API). */
  EMAIL_ADAPTER?: string;
  /** Sender address of every email. */
  EMAIL_FROM?: string;
  /** The `send_email` binding, for EMAIL_ADAPTER=binding. */
  EMAIL?: SendEmail;
  /** EMAIL_ADAPTER=http: the endpoint that takes `{from, to, subject, text, html}` as JSON, and its key (a secret). */
  EMAIL_HTTP_URL?: string;
  EMAIL_HTTP_KEY?: string;
  // ---- triggers ----
  /** One ScheduleObject per workflow with a schedule trigger, named by the workflow id. */
  SCHEDULES: DurableObjectNamespace<ScheduleObject>;
  /** Uploaded files (`PUT /api/files/:key`); r2 triggers start runs from its notifications. */
  FILES: R2Bucket;
  /** The FILES bucket's name, as R2 event notifications spell it. */
  FILES_BUCKET_NAME?: string;
  /** "false" stops the upload route from emitting its own notification (when R2 sends them in production). */
  FILES_EMIT_NOTIFICATIONS?: string;
  /** Named events (`{name, id?, payload?}`), from producers and `POST /api/events`. */
  EVENTS_QUEUE: Queue;
  /** R2 event notifications; the upload route sends the same message locally. */
  R2_EVENTS_QUEUE: Queue;
  /** Webhook secrets (`verify.secret`) are Worker secrets looked up by name. */
  [secret: string]: unknown;
}
