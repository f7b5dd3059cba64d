import { type Schema, Validator } from "@cfworker/json-schema";

/**
 * Registration-time sanity check of a trigger's JSON Schema. @cfworker/json-schema compiles
 * lazily and trusts its input: a malformed keyword either throws on the first run's input or
 * silently validates nothing. Neither should be discovered in production, so the keywords
 * the validator interprets are checked for shape here, then a few probe values are run
 * through the validator to surface unresolved `$ref`s.
 */
export function checkJsonSchema(schema: unknown): string | undefined {
  const problem = checkNode(schema, "#");
  if (problem) return problem;
  try {
    // Same draft as run-time validation (src/lib/json-schema.ts), so `$ref`s resolve alike.
    const validator = new Validator(schema as Schema, "2020-12");
    for (const probe of [null, {}, [], "", 0]) validator.validate(probe);
  } catch (thrown) {
    return thrown instanceof Error ? (thrown.message.split("\n")[0] ?? thrown.message) : String(thrown);
  }
  return undefined;
}

const typeNames = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);
const singleSchemas = [
  "additionalProperties",
  "additionalItems",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
] as const;
const schemaLists = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
const schemaMaps = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"] as const;
const counts = [
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minContains",
  "maxContains",
] as const;
const bounds = ["minimum", "maximum"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function badRegex(source: string): string | undefined {
  try {
    new RegExp(source, "u");
    return undefined;
  } catch (thrown) {
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
}

function checkNode(schema: unknown, at: string): string | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isRecord(schema)) return `${at}: a schema must be an object or a boolean`;
  const type = schema.type;
  if (type !== undefined) {
    const names = Array.isArray(type) ? type : [type];
    const bad = names.find((name) => typeof name !== "string" || !typeNames.has(name));
    if (bad !== undefined || names.length === 0) return `${at}/type: unknown type ${JSON.stringify(bad ?? type)}`;
  }
  if (schema.required !== undefined) {
    const required = schema.required;
    if (!Array.isArray(required) || required.some((name) => typeof name !== "string")) {
      return `${at}/required: expected an array of property names`;
    }
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return `${at}/enum: expected an array`;
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== "string") return `${at}/pattern: expected a string`;
    const problem = badRegex(schema.pattern);
    if (problem) return `${at}/pattern: ${problem}`;
  }
  for (const key of counts) {
    const value = schema[key];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      return `${at}/${key}: expected a non-negative integer`;
    }
  }
  for (const key of bounds) {
    if (schema[key] !== undefined && typeof schema[key] !== "number") return `${at}/${key}: expected a number`;
  }
  if (schema.multipleOf !== undefined && !(typeof schema.multipleOf === "number" && schema.multipleOf > 0)) {
    return `${at}/multipleOf: expected a positive number`;
  }
  for (const key of singleSchemas) {
    if (schema[key] === undefined) continue;
    const problem = checkNode(schema[key], `${at}/${key}`);
    if (problem) return problem;
  }
  if (schema.items !== undefined) {
    const problem = Array.isArray(schema.items)
      ? checkList(schema.items, `${at}/items`)
      : checkNode(schema.items, `${at}/items`);
    if (problem) return problem;
  }
  for (const key of schemaLists) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) return `${at}/${key}: expected a non-empty array of schemas`;
    const problem = checkList(list, `${at}/${key}`);
    if (problem) return problem;
  }
  for (const key of schemaMaps) {
    const map = schema[key];
    if (map === undefined) continue;
    if (!isRecord(map)) return `${at}/${key}: expected an object of schemas`;
    for (const [name, inner] of Object.entries(map)) {
      const where = `${at}/${key}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      const regexProblem = key === "patternProperties" ? badRegex(name) : undefined;
      if (regexProblem) return `${where}: ${regexProblem}`;
      const problem = checkNode(inner, where);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkList(list: unknown[], at: string): string | undefined {
  for (const [index, inner] of list.entries()) {
    const problem = checkNode(inner, `${at}/${index}`);
    if (problem) return problem;
  }
  return undefined;
}
