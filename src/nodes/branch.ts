import { z } from "zod";
import { evaluate, truthy } from "../expr/jsonata";
import { defineNode } from "./types";

const config = z.strictObject({
  cases: z.array(z.strictObject({ when: z.string().min(1), to: z.string().min(1) })).min(1),
  default: z.string().min(1).optional(),
});

export const branchNode = defineNode({
  type: "branch",
  kind: "pure",
  config,
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions: (c) => c.cases.map((entry, index) => ({ path: ["cases", index, "when"], source: entry.when })),
  writes: () => [],
  targets: (c) => [
    ...c.cases.map((entry, index) => ({ path: ["cases", index, "to"], nodeId: entry.to })),
    ...(c.default ? [{ path: ["default"], nodeId: c.default }] : []),
  ],
  async execute(c, node) {
    for (const entry of c.cases) {
      if (truthy(await evaluate(entry.when, node.context))) return { type: "success", output: {}, route: [entry.to] };
    }
    // With no match and no default every successor is skipped: the run goes on past them.
    return { type: "success", output: {}, route: c.default ? [c.default] : [] };
  },
});
