/**
 * The one error shape of Signalbox. Expected failures travel as data (`ErrorData`);
 * `SignalboxError` exists only to carry that data through a `throw` across layers that
 * cannot return it (JSONata callbacks, Hono handlers). Nothing relies on `instanceof`
 * or message text: code paths branch on `code` and `retryable`.
 */
export const errorStatus = {
  "request.invalid_json": 400,
  // A body its Content-Type promises but the parser cannot read, such as a multipart form without its boundary.
  "request.invalid_body": 400,
  "request.invalid": 400,
  "request.too_large": 413,
  "request.unsupported_media_type": 415,
  "auth.missing_token": 401,
  "auth.invalid_token": 401,
  "auth.not_configured": 401,
  // API keys: one not in the issued form, one no row matches, and one that was revoked or ran out.
  "auth.key_malformed": 401,
  "auth.key_unknown": 401,
  "auth.key_revoked": 401,
  "auth.key_expired": 401,
  // Signed in, but the role (or the key's workflows) does not allow this: details name the permission.
  "auth.forbidden": 403,
  // Cloudflare Access (src/auth/access.ts): each way a Cf-Access-Jwt-Assertion can be refused.
  "auth.access_not_configured": 401,
  "auth.access_malformed": 401,
  "auth.access_unsigned": 401,
  "auth.access_expired": 401,
  "auth.access_audience": 401,
  "auth.access_claims": 401,
  "auth.access_signature": 401,
  "auth.access_no_role": 403,
  // The team's keys could not be fetched: the request may be repeated.
  "auth.access_unavailable": 503,
  // Too many failed sign-ins or approval-link guesses from one address: Retry-After says when to try again.
  "auth.rate_limited": 429,
  "key.invalid": 422,
  "key.not_found": 404,
  "route.not_found": 404,
  "definition.invalid": 422,
  "definition.duplicate_node": 422,
  "definition.unknown_node": 422,
  "definition.cycle": 422,
  "definition.unreachable": 422,
  "definition.branch_target": 422,
  "definition.expression_invalid": 422,
  "definition.unknown_node_type": 422,
  "definition.config_invalid": 422,
  "definition.schema_invalid": 422,
  "definition.empty": 422,
  "definition.reserved_key": 422,
  "definition.duplicate_edge": 422,
  "definition.write_conflict": 422,
  // Workflows that call workflows (map, loop, subworkflow): checked against D1 at registration.
  "definition.workflow_cycle": 422,
  "definition.workflow_not_found": 422,
  // Sensitive data (docs/security.md#sensitive-data): a mark on nothing the workflow writes, and
  // a workflow that marks data while the DATA_KEYS secret is missing or malformed.
  "definition.sensitive_unwritten": 422,
  "definition.data_keys_missing": 422,
  // A reveal of sensitive values DATA_KEYS cannot open (the key that sealed them is no longer listed).
  "data_keys.unavailable": 503,
  // Compensation: a `compensate` on a node type whose effect cannot be undone, and
  // `onFailure`/`onCancel: "compensate"` on a workflow none of whose nodes has a `compensate`.
  "definition.compensate_unsupported": 422,
  "definition.nothing_to_compensate": 422,
  "workflow.not_found": 404,
  "workflow.version_not_found": 404,
  "run.not_found": 404,
  "run.input_invalid": 422,
  "trigger.not_found": 404,
  "run.not_active": 409,
  // The run's object could not be started: nothing was kept, so the sender's retry starts the run.
  "run.start_failed": 503,
  "run.context_version_not_found": 404,
  // Approval links and events delivered to runs (human-in-the-loop).
  "approval.not_found": 404,
  "approval.used": 410,
  "approval.expired": 410,
  "approval.closed": 409,
  "approval.csrf_invalid": 403,
  "approval.invalid": 422,
  "event.invalid": 400,
  // Triggers: schedules, events, file uploads and signed webhooks.
  "definition.cron_invalid": 422,
  // An email address another workflow already takes mail for.
  "definition.trigger_conflict": 422,
  "definition.timezone_invalid": 422,
  "webhook.signature_missing": 401,
  "webhook.signature_invalid": 401,
  "webhook.timestamp_stale": 401,
  "webhook.secret_not_configured": 401,
  "run.input_mapping_failed": 422,
  "trigger.filter_failed": 422,
  "workflow.disabled": 409,
  "schedule.not_found": 404,
  "file.not_found": 404,
  // Operations: retry, replay, pause and resume, bulk actions, dry runs, metrics.
  "run.not_failed": 409,
  "run.not_ended": 409,
  // An operator's compensate of an ended run none of whose completed steps is left to undo.
  "run.nothing_to_compensate": 409,
  "run.node_not_found": 404,
  "run.replay_not_ready": 409,
  "run.already_paused": 409,
  "run.not_paused": 409,
  "run.version_incompatible": 409,
  "run.context_invalid": 422,
  "bulk.filter_empty": 400,
  "dryrun.mock_invalid": 422,
  "dryrun.limit_exceeded": 422,
  "metrics.window_invalid": 400,
  // Failures that happen inside a run: never an HTTP status of their own.
  "node.timeout": 500,
  "node.interrupted": 500,
  "node.http_status": 500,
  "node.http_network": 500,
  "node.http_response_too_large": 500,
  "node.expression_failed": 500,
  "node.output_invalid": 500,
  "context.write_conflict": 500,
  "node.failed": 500,
  "run.cancelled": 500,
  "node.event_timeout": 500,
  "review.expired": 500,
  "review.failed": 500,
  "email.delivery_failed": 500,
  // LLM steps: a provider that is not set up, calls that fail, answers that do not fit.
  "llm.not_configured": 500,
  "llm.timeout": 500,
  "llm.rate_limited": 500,
  "llm.provider_error": 500,
  "llm.request_rejected": 500,
  "llm.output_invalid": 500,
  "llm.low_confidence": 500,
  "llm.budget_exceeded": 500,
  // Provider limits and circuits (src/limits): a call whose circuit is open (the node fails fast
  // instead of waiting), a limit the node names that is not configured, LIMITS that cannot be read.
  "circuit.open": 500,
  "limit.unknown": 500,
  "limit.config_invalid": 500,
  // GET /api/limits/:name for a name no limit has.
  "limit.not_found": 404,
  // extract steps: no file, a file that cannot be read, or one that holds no text.
  "extract.no_file": 500,
  "extract.not_found": 500,
  "extract.read_failed": 500,
  "extract.too_large": 500,
  "extract.unsupported_type": 500,
  "extract.unreadable": 500,
  "extract.encrypted": 500,
  "extract.no_text": 500,
  // embed steps: input that is not text, a provider without embeddings, an answer of the wrong shape.
  "embed.input_invalid": 500,
  "embed.not_supported": 500,
  "embed.output_invalid": 500,
  // A dry run's node asked for something its mocks do not provide.
  "dryrun.unmocked_request": 500,
  "dryrun.mock_missing": 500,
  // Context values: a step that would grow the run's context over its limit; a stored large value R2 did not return.
  "context.too_large": 413,
  "context.unavailable": 500,
  // Child runs: map, loop and subworkflow steps.
  "map.too_many_items": 500,
  "map.item_failed": 500,
  "map.too_many_failures": 500,
  "loop.max_iterations": 500,
  "loop.iteration_failed": 500,
  "subworkflow.failed": 500,
  "subworkflow.depth_exceeded": 500,
  "subworkflow.workflow_not_found": 500,
  "child.start_failed": 500,
  "internal.error": 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorData {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  details?: unknown;
}

export function errorData(
  code: ErrorCode,
  message: string,
  options: { retryable?: boolean; retryAfterMs?: number; details?: unknown } = {},
): ErrorData {
  const data: ErrorData = { code, message, retryable: options.retryable ?? false };
  if (options.retryAfterMs !== undefined) data.retryAfterMs = options.retryAfterMs;
  if (options.details !== undefined) data.details = options.details;
  return data;
}

export class SignalboxError extends Error {
  readonly data: ErrorData;
  constructor(data: ErrorData, options?: { cause?: unknown }) {
    super(data.message, options);
    this.name = "SignalboxError";
    this.data = data;
  }
}

export function fail(
  code: ErrorCode,
  message: string,
  options?: { retryable?: boolean; retryAfterMs?: number; details?: unknown; cause?: unknown },
): never {
  throw new SignalboxError(errorData(code, message, options), { cause: options?.cause });
}

/** Reads error data off anything thrown, by shape rather than by class. */
export function toErrorData(thrown: unknown, fallback: ErrorCode = "internal.error"): ErrorData {
  if (typeof thrown === "object" && thrown !== null && "data" in thrown) {
    const data = (thrown as { data: unknown }).data;
    if (isErrorData(data)) return data;
  }
  if (isErrorData(thrown)) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return errorData(fallback, message);
}

export function isErrorData(value: unknown): value is ErrorData {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorData).code === "string" &&
    (value as ErrorData).code in errorStatus &&
    typeof (value as ErrorData).message === "string"
  );
}
