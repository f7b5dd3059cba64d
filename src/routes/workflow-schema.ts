import { Hono } from "hono";
import { z } from "zod";
import { definitionSchema } from "../definition/schema";
import type { Env } from "../env";
import { nodeRegistry } from "../nodes/registry";
import { answer, spec } from "./openapi-spec";

type JsonSchema = Record<string, unknown>;

/** Files are what people write: defaults are optional, and checks JSON Schema cannot say are left to the server. */
const options = { io: "input", unrepresentable: "any" } as const;

/**
 * The JSON Schema of a workflow definition file, generated from the zod schemas the server
 * validates with: the document's shape, and each node type's `config` chosen by its `type`.
 * Expressions, the graph and calls to other workflows are checked by `signalbox validate` and
 * the server, not by editors. `npm run schema` writes it to schema/workflow.json.
 */
export function workflowJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(definitionSchema, options) as JsonSchema;
  const node = (schema.properties as { nodes: { items: JsonSchema } }).nodes.items;
  node.allOf = [...nodeRegistry].map(([type, spec]) => {
    const { $schema: _dialect, ...config } = z.toJSONSchema(spec.config, options) as JsonSchema;
    return {
      if: { properties: { type: { const: type } }, required: ["type"] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords; the object is data, never awaited.
      then: { properties: { config } },
    };
  });
  (node.properties as { type: JsonSchema }).type = { type: "string", enum: [...nodeRegistry.keys()] };
  return {
    $schema: schema.$schema,
    title: "Signalbox workflow definition",
    description: "A workflow registered with `signalbox push` or POST /api/workflows (docs/definitions.md).",
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "$schema")),
  };
}

let generated: JsonSchema | undefined;

/** `GET /api/schema/workflow.json`; the definition format is public, so editors fetch it without a key. */
export const workflowSchemaRoutes = new Hono<{ Bindings: Env }>();

workflowSchemaRoutes.get(
  "/workflow.json",
  spec({
    summary: "The JSON Schema of a workflow definition file, for editors (no key needed)",
    public: true,
    responses: { "200": answer("the JSON Schema") },
  }),
  (c) => {
    generated ??= workflowJsonSchema();
    return c.json(generated);
  },
);
