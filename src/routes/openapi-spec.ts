import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { fail } from "../errors";

/**
 * What each route declares next to itself for the OpenAPI document (src/routes/openapi.ts walks
 * the app's routes and collects these). Bodies are zod schemas; where a route validates its
 * body with the same schema (`parseBody`), the document cannot drift from what is accepted.
 */

type JsonSchema = Record<string, unknown>;
type Schema = z.ZodType | JsonSchema;

/** Request bodies are what clients send: defaults optional, refinements JSON Schema cannot say left out. */
function toJsonSchema(schema: Schema): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

export const errorSchema = { $ref: "#/components/schemas/Error" };

export const json = (schema: Schema) => ({ content: { "application/json": { schema: toJsonSchema(schema) } } });

/** A success answer: its description and, where given, its JSON body's schema. */
export const answer = (description: string, schema?: Schema) => ({
  description,
  ...(schema ? json(schema) : {}),
});

/** The statuses a route may refuse with, each carrying the one error shape. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: "error", ...json(errorSchema) }]));

export const pathParam = (name: string, description?: string) => ({
  name,
  in: "path" as const,
  required: true,
  schema: { type: "string" as const },
  ...(description ? { description } : {}),
});

export const queryParam = (name: string, schema: JsonSchema = { type: "string" }, description?: string) => ({
  name,
  in: "query" as const,
  schema,
  ...(description ? { description } : {}),
});

/** Plain decimal digits only; anything else is 400 `request.invalid` naming the parameter. */
export const limitParam = queryParam("limit", { type: "integer", minimum: 1, maximum: 200, default: 50 });
/** Large context values are references (`{"$signalbox.blob", size, type}`) unless this is true. */
export const inlineParam = queryParam("inline", { type: "boolean" });
export const revealParam = queryParam(
  "reveal",
  { type: "boolean" },
  "sensitive values in plain text instead of redacted: admins only (runs.reveal), and audited",
);

type Operation = Parameters<typeof describeRoute>[0];

/**
 * One route's entry in the document. `body` is the JSON body's schema (`bodyOptional` where an
 * empty body reads as `{}`); `public` routes (hooks, approval links, the schema) need no bearer token.
 */
export function spec(
  operation: Omit<Operation, "requestBody"> & { body?: Schema; bodyOptional?: boolean; public?: boolean },
) {
  const { body, bodyOptional, public: isPublic, ...rest } = operation;
  return describeRoute({
    ...rest,
    ...(body ? { requestBody: { required: !bodyOptional, ...json(body) } } : {}),
    ...(isPublic ? { security: [] } : {}),
  } as Operation);
}

/**
 * Checks a parsed JSON body against the schema its route documents. The first problem is the
 * answer's message (schemas carry the messages the API has always given), under `code`.
 */
export function parseBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  code: "request.invalid" | "event.invalid" = "request.invalid",
): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  fail(code, issue?.message ?? "the request body is not valid", {
    details: { path: issue?.path.map(String) ?? [] },
  });
}
