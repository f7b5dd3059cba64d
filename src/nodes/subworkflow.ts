import { z } from "zod";
import { evaluate } from "../expr/jsonata";
import { toJson } from "../lib/json";
import { identifier } from "../lib/schema-parts";
import { outputKey } from "./body";
import { defineNode } from "./types";

const config = z.strictObject({
  workflow: identifier,
  /** Pinned version; without it, the latest when the step starts. */
  version: z.number().int().min(1).optional(),
  /** JSONata over the context: the child's input (default `{}`). */
  input: z.string().min(1).max(10_000).optional(),
  /** Context key for the child's output. */
  output: outputKey,
});

export const subworkflowNode = defineNode({
  type: "subworkflow",
  kind: "io",
  config,
  defaultTimeoutMs: 10_000,
  defaultMaxAttempts: 1,
  expressions: (c) => (c.input ? [{ path: ["input"], source: c.input }] : []),
  writes: (c) => [c.output],
  body: (c) => ({
    path: ["workflow"],
    ref: { workflow: c.workflow, ...(c.version !== undefined ? { version: c.version } : {}) },
  }),
  async execute(c, node) {
    const input = c.input ? toJson(await evaluate(c.input, node.context)) : {};
    return { type: "spawn", spawn: { mode: "subworkflow", count: 1, concurrency: 1, tolerance: 0 }, inputs: [input] };
  },
});
