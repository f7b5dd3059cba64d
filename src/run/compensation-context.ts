import { isBlobRef } from "../lib/blob-ref";
import type { JsonObject } from "../lib/json";

/**
 * What a compensation's templates see: the run's context, with `output` the value the step
 * wrote (its one key's value; all its keys when it wrote several; null when none). A value the
 * step's output holds as a reference to R2 (a large one) is read from the resolved context.
 */
export function compensationContext(context: Readonly<JsonObject>, output: JsonObject | undefined): JsonObject {
  const written: JsonObject = {};
  for (const [key, value] of Object.entries(output ?? {})) {
    written[key] = isBlobRef(value) ? (context[key] ?? null) : value;
  }
  const keys = Object.keys(written);
  const value = keys.length === 1 ? (written[keys[0] as string] ?? null) : keys.length > 1 ? written : null;
  return { ...context, output: value };
}
