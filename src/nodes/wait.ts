import { z } from "zod";
import { duration } from "../definition/schema";
import { errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { parseDuration } from "../lib/duration";
import { defineNode } from "./types";

const config = z.union([
  z.strictObject({ duration }),
  /** A JSONata expression giving an ISO-8601 time or epoch milliseconds. */
  z.strictObject({ until: z.string().min(1) }),
]);

export const waitNode = defineNode({
  type: "wait",
  kind: "pure",
  config,
  // The sleep itself is timed by the run's alarm; this bounds only computing the wake time.
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions: (c) => ("until" in c ? [{ path: ["until"], source: c.until }] : []),
  writes: () => [],
  async execute(c, node) {
    if ("duration" in c) return { type: "sleep", until: node.now + (parseDuration(c.duration) ?? 0) };
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
