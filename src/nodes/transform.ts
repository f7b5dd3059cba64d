import { z } from "zod";
import { evaluate } from "../expr/jsonata";
import { type JsonObject, toJson } from "../lib/json";
import { defineNode } from "./types";

const config = z.strictObject({
  /** Context key -> JSONata expression over the context. */
  set: z
    .record(z.string().min(1), z.string())
    .refine((set) => Object.keys(set).length > 0, "set needs at least one key"),
});

export const transformNode = defineNode({
  type: "transform",
  kind: "pure",
  config,
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions: (c) => Object.entries(c.set).map(([key, source]) => ({ path: ["set", key], source })),
  writes: (c) => Object.keys(c.set),
  async execute(c, node) {
    const output: JsonObject = {};
    for (const [key, source] of Object.entries(c.set)) output[key] = toJson(await evaluate(source, node.context));
    return { type: "success", output };
  },
});
