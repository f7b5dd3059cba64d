import { z } from "zod";
import { errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { parseDuration } from "../lib/duration";
import { duration } from "../lib/schema-parts";
import { defineNode } from "./types";

export const eventName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, "expected letters, digits, '.', '_', ':' or '-' (max 100)");

const config = z.union([
  z.strictObject({ duration }),
  /** A JSONata expression giving an ISO-8601 time or epoch milliseconds. */
  z.strictObject({ until: z.string().min(1) }),
  /** Wait for `POST /api/runs/:runId/events/:event`; an event that came early is taken from the buffer. */
  z.strictObject({
    event: eventName,
    /** JSONata over the context plus `event` ({name, id, payload, receivedAt}); truthy to accept. */
    match: z.string().min(1).optional(),
    timeout: duration,
    /** The successor taken on timeout; without one a timeout fails the step. */
    timeoutTo: z.string().min(1).optional(),
    /** Context key that receives the event (or `{name, timedOut: true}`). */
    output: z.string().min(1).optional(),
  }),
]);

export const waitNode = defineNode({
  type: "wait",
  kind: "pure",
  config,
  // The sleep itself is timed by the run's alarm; this bounds only computing the wake time.
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions(c) {
    if ("until" in c) return [{ path: ["until"], source: c.until }];
    if ("event" in c && c.match) return [{ path: ["match"], source: c.match }];
    return [];
  },
  writes: (c) => ("event" in c && c.output ? [c.output] : []),
  timeoutTarget: (c) => ("event" in c && c.timeoutTo ? { path: ["timeoutTo"], nodeId: c.timeoutTo } : undefined),
  async execute(c, node) {
    if ("duration" in c) return { type: "sleep", until: node.now + (parseDuration(c.duration) ?? 0) };
    if ("event" in c) {
      return {
        type: "await-event",
        wait: {
          name: c.event,
          until: node.now + (parseDuration(c.timeout) ?? 0),
          ...(c.match ? { match: c.match } : {}),
          ...(c.timeoutTo ? { timeoutTo: c.timeoutTo } : {}),
          ...(c.output ? { output: c.output } : {}),
        },
      };
    }
    const value = await evaluate(c.until, node.context);
    const until = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(until)) {
      return {
        type: "failure",
        error: errorData("node.expression_failed", `wait.until gave ${JSON.stringify(value)}, not a time`),
      };
    }
    return { type: "sleep", until };
  },
});
