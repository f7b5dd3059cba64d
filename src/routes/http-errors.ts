import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorData, errorStatus, toErrorData } from "../errors";

export function errorResponse(c: Context, error: ErrorData, status?: number): Response {
  const body: { error: { code: string; message: string; details?: unknown } } = {
    error: { code: error.code, message: error.message },
  };
  if (error.details !== undefined) body.error.details = error.details;
  c.set("errorCode", error.code);
  if (error.retryAfterMs !== undefined) c.header("Retry-After", String(Math.ceil(error.retryAfterMs / 1000)));
  return c.json(body, (status ?? errorStatus[error.code]) as ContentfulStatusCode);
}

/**
 * The app's error boundary: expected errors keep their code and status, anything else is a bug.
 * A 503 is expected: a part of the platform was unavailable and the request may be repeated.
 */
export function handleError(thrown: unknown, c: Context): Response {
  const data = toErrorData(thrown);
  const status = errorStatus[data.code];
  if (status >= 500 && status !== 503) {
    console.log(
      JSON.stringify({
        level: "error",
        message: "unhandled error",
        path: c.req.path,
        error: String(thrown),
        stack: (thrown as Error)?.stack,
      }),
    );
    return errorResponse(c, { code: "internal.error", message: "internal error", retryable: true }, 500);
  }
  return errorResponse(c, data, status);
}
