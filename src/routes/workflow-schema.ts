import { Hono } from "hono";
import { z } from "zod";
import { compensateCommonSchema, definitionSchema } from "../definition/schema";
import type { Env } from "../env";
import { nodeRegistry } from "../nodes/registry";
import type { NodeSpec } from "../nodes/types";
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
      then: { properties: { config, compensate: compensateJsonSchema(spec) } },
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

/** A node type's `compensate`: its request plus the shared `timeout` and `retry`; `false` where it has none. */
function compensateJsonSchema(spec: NodeSpec): JsonSchema | false {
  if (!spec.compensation) return false;
  const { $schema: _request, ...request } = z.toJSONSchema(spec.compensation.config, options) as JsonSchema;
  const { $schema: _common, ...common } = z.toJSONSchema(compensateCommonSchema, options) as JsonSchema;
  return {
    ...request,
    properties: { ...(request.properties as JsonSchema), ...(common.properties as JsonSchema) },
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
