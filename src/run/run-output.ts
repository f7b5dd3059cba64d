import { evaluate } from "../expr/jsonata";
import { type Json, type JsonObject, toJson } from "../lib/json";

/**
 * What a run returns (to its parent, and as its report's `output`): the definition's `output`
 * expression over the final context, or the context minus what the run was given.
 * Throws the expression's error data when it fails.
 */
export async function runOutput(definition: unknown, context: JsonObject): Promise<Json> {
  const expression = (definition as { output?: unknown } | undefined)?.output;
  if (typeof expression === "string") return toJson(await evaluate(expression, context));
  const { input: _input, trigger: _trigger, run: _run, ...rest } = context;
  return rest;
}
