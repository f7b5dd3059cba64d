import { z } from "zod";
import { identifier } from "../lib/schema-parts";

/**
 * What a child run executes: a registered workflow (pinned to a version, or the latest when the
 * step starts), or an inline sub-graph validated like a workflow of its own.
 */
export const workflowRef = z.strictObject({
  workflow: identifier,
  version: z.number().int().min(1).optional(),
});

export const inlineBody = z.strictObject({
  nodes: z.array(z.unknown()).min(1, "a body needs at least one node").max(500),
  edges: z.array(z.unknown()).max(2_000).optional(),
  /** JSONata over the child's final context: what each child returns. */
  output: z.string().min(1).max(10_000).optional(),
});

export const bodySchema = z.union([workflowRef, inlineBody]);

export type WorkflowRef = z.infer<typeof workflowRef>;
export type InlineBody = z.infer<typeof inlineBody>;
export type BodyRef = WorkflowRef | InlineBody;

export function isInline(body: BodyRef): body is InlineBody {
  return "nodes" in body;
}

/** A context key a node writes (`output`, `failures`). */
export const outputKey = z.string().min(1).max(200);

/** The definition an inline body stands for (its id is replaced by `<workflow>/<node>` when it runs). */
export function inlineDefinition(body: InlineBody): Record<string, unknown> {
  return {
    id: "body",
    name: "inline body",
    nodes: body.nodes,
    edges: body.edges ?? [],
    ...(body.output ? { output: body.output } : {}),
  };
}
