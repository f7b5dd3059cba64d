import type { GateObject } from "./flow/gate-object";
import type { LimitObject } from "./limits/limit-object";
import type { RunObject } from "./run/run-object";
import type { ScheduleObject } from "./triggers/schedule-object";

export interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<RunObject>;
  /** Bearer token every /api route requires (a Worker secret; `.dev.vars` locally). */
  API_TOKEN?: string;
  /** "1" only in `npm run bench`'s config: mounts its seeding and query-plan routes (src/routes/bench.ts). */
  BENCH?: string;
  DEDUP_WINDOW_DEFAULT?: string;
  /** How long an isolate starts runs from the latest version it read before reading D1 again (src/store/workflow-cache.ts). */
  WORKFLOW_CACHE_TTL?: string;
  /** How long a spare run object made ahead of the next trigger may wait for it; "0s" makes none (src/triggers/spare-runs.ts). */
  SPARE_RUN_TTL?: string;
  /** This Worker's public origin (e.g. https://signalbox.example.com): approval links and runs' `run.publicUrl` (src/lib/public-url.ts). */
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
  /** Flow control: one GateObject per workflow, flow part and key value (src/flow/gate-object.ts). */
  GATES: DurableObjectNamespace<GateObject>;
  /** How long a gate's slot is leased before the gate checks on the run holding it (default 1m). */
  FLOW_SLOT_LEASE?: string;
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
  // ---- parallel steps (src/run/step-dispatch.ts) ----
  /** The steps queue: io attempts that are ready together go out through it (absent: all run inline). */
  STEPS_QUEUE?: Queue;
  /** "queue" (default) sends parallel io attempts through STEPS_QUEUE; "inline" runs every attempt in its run. */
  PARALLEL_DISPATCH?: string;
  // ---- llm steps (src/adapters/llm/config.ts) ----
  /** The `default` provider: an OpenAI-compatible endpoint, its default model, and the NAME of the secret with its key (default LLM_API_KEY). */
  LLM_BASE_URL?: string;
  LLM_MODEL?: string;
  LLM_API_KEY_SECRET?: string;
  /** More providers, as JSON: `{"<name>": {type, baseUrl?, apiKey? (a secret's name), binding?, model?, headers?, limits?}}`. */
  LLM_PROVIDERS?: string;
  // ---- provider limits and circuits (src/limits, docs/limits.md) ----
  /** One LimitObject per limit: an LLM provider's (`llm:<name>`), an http host's (`http:<host>`) or a named one. */
  LIMITERS: DurableObjectNamespace<LimitObject>;
  /** Limits as JSON: `{"<name> | http:<host> | llm:<provider>": {requestsPerMinute?, tokensPerMinute? (llm), circuit?}}`. */
  LIMITS?: string;
  /** Prices in USD per million tokens, as JSON: `{"<provider/model | model | *>": {input, output}}`. */
  LLM_PRICES?: string;
  /** Span log lines: "batch" (default, written with each checkpoint flush), "each" (a line per span), "off". */
  TRACE_SPANS?: string;
  // ---- context values (src/run/context-store.ts) ----
  /** Large context values, content-addressed under `runs/<runId>/blobs/<sha256>`. */
  BLOBS: R2Bucket;
  /**
   * Keys that seal sensitive values at rest (a secret), JSON `{"current":"<id>","keys":{"<id>":"<base64 of 32 bytes>"}}`;
   * required by workflows that mark data sensitive (src/security, docs/security.md#sensitive-data).
   */
  DATA_KEYS?: string;
  /** A top-level context value whose JSON is larger goes to BLOBS (default "64KiB"; at most 1MiB). */
  CONTEXT_INLINE_LIMIT?: string;
  /** The most one run's context may hold, summed over its top-level values (default "10MiB"). */
  CONTEXT_MAX_SIZE?: string;
  // ---- Cloudflare Access (src/auth/access.ts) ----
  /** The team domain (myteam.cloudflareaccess.com) whose keys sign Cf-Access-Jwt-Assertion. */
  ACCESS_TEAM_DOMAIN?: string;
  /** The Access application's audience tag. */
  ACCESS_AUD?: string;
  /** JSON `{"<role>": ["<email | *@domain | group:name | *>", ...]}`. */
  ACCESS_ROLES?: string;
  /** Counts failed authentications and approval-link guesses per client address (src/auth/rate-limit.ts). */
  AUTH_LIMITER?: RateLimit;
  // ---- retention (src/run/retention.ts, src/triggers/retention.ts) ----
  /** How long ended runs are kept by how they ended, unless their definition says: durations; unset or "0" keeps them. */
  RETENTION_SUCCESS?: string;
  RETENTION_FAILED?: string;
  RETENTION_CANCELLED?: string;
  /** How long audit entries are kept (a duration); unset or "0" keeps them. */
  RETENTION_AUDIT?: string;
  /** How many expired runs one watchdog tick deletes (default 25). */
  RETENTION_BATCH?: string;
  /** Webhook secrets (`verify.secret`) are Worker secrets looked up by name. */
  [secret: string]: unknown;
}
