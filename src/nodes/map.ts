import { z } from "zod";
import { errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { toJson } from "../lib/json";
import { bodySchema, outputKey } from "./body";
import { defineNode } from "./types";

export const defaultMapConcurrency = 10;
export const defaultMaxItems = 1_000;

const tolerance = z.union([
  z.literal("fail-fast"),
  z.strictObject({
    tolerate: z.union([
      z.number().int().min(0),
      z.string().regex(/^(100|[1-9]?[0-9])(\.[0-9]+)?%$/, "expected a percentage such as 5%"),
    ]),
  }),
]);

const config = z.strictObject({
  /** JSONata over the context giving the list; each item is one child run's input. */
  items: z.string().min(1).max(10_000),
  body: bodySchema,
  concurrency: z.number().int().min(1).max(100).optional(),
  maxItems: z.number().int().min(1).max(10_000).optional(),
  onFailure: tolerance.optional(),
  /** Context key for the results, in item order (null where an item failed). */
  output: outputKey,
  /** Context key for `[{index, error}]` of the items that failed. */
  failures: outputKey.optional(),
});

type Tolerance = z.infer<typeof tolerance>;

/** How many failed items the step survives: 0 fails fast; a percentage is of the item count, rounded down. */
export function toleratedFailures(onFailure: Tolerance | undefined, count: number): number {
  if (onFailure === undefined || onFailure === "fail-fast") return 0;
  const { tolerate } = onFailure;
  if (typeof tolerate === "number") return tolerate;
  return Math.floor((count * Number.parseFloat(tolerate)) / 100);
}

export const mapNode = defineNode({
  type: "map",
  kind: "io",
  config,
  // Bounds evaluating `items`; the children have no deadline of their own beyond their nodes'.
  defaultTimeoutMs: 10_000,
  defaultMaxAttempts: 1,
  expressions: (c) => [{ path: ["items"], source: c.items }],
  writes: (c) => [c.output, ...(c.failures ? [c.failures] : [])],
  body: (c) => ({ path: ["body"], ref: c.body }),
  async execute(c, node) {
    const value = await evaluate(c.items, node.context);
    // A JSONata sequence of one is a single value, and of none is undefined.
    const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
    const maxItems = c.maxItems ?? defaultMaxItems;
    if (items.length > maxItems) {
      return {
        type: "failure",
        error: errorData("map.too_many_items", `map.items gave ${items.length} items, more than maxItems ${maxItems}`, {
          details: { items: items.length, maxItems },
        }),
      };
    }
    return {
      type: "spawn",
      spawn: {
        mode: "map",
        count: items.length,
        concurrency: c.concurrency ?? defaultMapConcurrency,
        tolerance: toleratedFailures(c.onFailure, items.length),
      },
      inputs: items.map(toJson),
    };
  },
});
