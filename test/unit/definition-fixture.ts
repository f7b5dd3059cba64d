import { type DefinitionIssue, validateDefinition } from "../../src/definition/validate";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely into invalid shapes.
export type Doc = Record<string, any>;

/** webhook -> prepare (transform) -> route (branch) -> notify (http) | skip (log) -> done (log) */
export function reference(): Doc {
  return {
    id: "support-triage",
    name: "Support triage",
    triggers: [{ type: "webhook", schema: { type: "object", required: ["message"] } }],
    nodes: [
      { id: "prepare", type: "transform", config: { set: { reply: "input.message", priority: "input.priority" } } },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "priority = 'high'", to: "notify" }], default: "skip" },
      },
      {
        id: "notify",
        type: "http",
        timeout: "10s",
        retry: { maxAttempts: 5, backoff: "fixed", initialDelay: "2s", jitter: true },
        config: {
          method: "POST",
          url: "https://example.com/hooks/{{ run.id }}",
          body: "{ 'text': reply }",
          output: "response",
        },
      },
      { id: "skip", type: "log", config: { message: "skipped {{ reply }}" } },
      { id: "done", type: "log", config: { message: "done" } },
    ],
    edges: [
      { from: "prepare", to: "route" },
      { from: "route", to: "notify" },
      { from: "route", to: "skip" },
      { from: "notify", to: "done" },
      { from: "skip", to: "done" },
    ],
  };
}

/** A graph of log nodes, for graph-shape cases. */
export function graph(ids: string[], edges: [string, string][]): Doc {
  return {
    id: "graph",
    name: "graph",
    nodes: ids.map((id) => ({ id, type: "log", config: { message: id } })),
    edges: edges.map(([from, to]) => ({ from, to })),
  };
}

export function issuesOf(raw: unknown): DefinitionIssue[] {
  const result = validateDefinition(raw);
  if (result.ok) throw new Error("expected the definition to be rejected");
  return result.issues;
}

export function valid(raw: unknown) {
  const result = validateDefinition(raw);
  if (!result.ok) throw new Error(`expected a valid definition, got ${JSON.stringify(result.issues, null, 2)}`);
  return result;
}

export function edit(change: (doc: Doc) => void): Doc {
  const doc = reference();
  change(doc);
  return doc;
}
