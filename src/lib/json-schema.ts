import { type Schema, Validator } from "@cfworker/json-schema";

export interface SchemaError {
  path: string;
  message: string;
}

const cache = new WeakMap<object, Validator>();

/** Validates with a JSON Schema interpreter that runs in Workers (no code generation). */
export function validateJson(schema: Record<string, unknown>, value: unknown): SchemaError[] {
  let validator = cache.get(schema);
  if (!validator) {
    validator = new Validator(schema as Schema, "2020-12", false);
    cache.set(schema, validator);
  }
  const result = validator.validate(value);
  if (result.valid) return [];
  // The interpreter reports each failing keyword and its parents; the leaves say what is wrong.
  return result.errors
    .filter(
      (unit) =>
        !unit.error.startsWith("Property ") ||
        !result.errors.some(
          (other) => other !== unit && other.instanceLocation.startsWith(`${unit.instanceLocation}/`),
        ),
    )
    .map((unit) => ({ path: unit.instanceLocation.replace(/^#/, "") || "/", message: unit.error }));
}
