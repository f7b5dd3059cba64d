import { z } from "zod";
import { bodySchema, outputKey } from "./body";
import { defineNode } from "./types";

const config = z.strictObject({
  body: bodySchema,
  /** JSONata over `{...context, iteration, last}` after each iteration; truthy ends the loop. */
  until: z.string().min(1).max(10_000),
  maxIterations: z.number().int().min(1).max(1_000),
  /** JSONata over `{...context, iteration, last}` giving each iteration's input (default `{iteration, last}`). */
  input: z.string().min(1).max(10_000).optional(),
  /** Context key for `{iterations, last}`. */
  output: outputKey,
});

export type LoopConfig = z.infer<typeof config>;

export const loopNode = defineNode({
  type: "loop",
  kind: "io",
  config,
  defaultTimeoutMs: 10_000,
  defaultMaxAttempts: 1,
  expressions: (c) => [
    { path: ["until"], source: c.until },
    ...(c.input ? [{ path: ["input"], source: c.input }] : []),
  ],
  writes: (c) => [c.output],
  body: (c) => ({ path: ["body"], ref: c.body }),
  // Each iteration's input depends on the one before: the shell evaluates `input` and `until`.
  async execute(c) {
    return { type: "spawn", spawn: { mode: "loop", count: c.maxIterations, concurrency: 1, tolerance: 0 } };
  },
});
