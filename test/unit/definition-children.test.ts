import { describe, expect, it } from "vitest";
import { validateDefinition } from "../../src/definition/validate";
import { checkWorkflowCalls, workflowCalls } from "../../src/definition/workflow-calls";
import { toleratedFailures } from "../../src/nodes/map";

function workflow(id: string, nodes: unknown[], extra: Record<string, unknown> = {}) {
  return { id, name: id, nodes, ...extra };
}

const inline = {
  nodes: [{ id: "double", type: "transform", config: { set: { value: "input * 2" } } }],
  output: "value",
};

function map(body: unknown, extra: Record<string, unknown> = {}) {
  return { id: "each", type: "map", config: { items: "input.items", body, output: "results", ...extra } };
}

function issues(doc: unknown) {
  const result = validateDefinition(doc);
  return result.ok ? [] : result.issues.map((issue) => [issue.code, issue.path]);
}

describe("map, loop and subworkflow definitions", () => {
  it.each([
    ["a map with an inline body", workflow("a", [map(inline)])],
    [
      "a map calling a workflow",
      workflow("a", [map({ workflow: "b", version: 2 }, { onFailure: { tolerate: "5%" } })]),
    ],
    [
      "a loop",
      workflow("a", [
        { id: "again", type: "loop", config: { body: inline, until: "last > 10", maxIterations: 5, output: "o" } },
      ]),
    ],
    ["a subworkflow", workflow("a", [{ id: "call", type: "subworkflow", config: { workflow: "b", output: "o" } }])],
    ["a workflow output", workflow("a", [map(inline)], { output: "results" })],
  ])("accepts %s", (_name, doc) => {
    expect(issues(doc)).toEqual([]);
  });

  it.each([
    [
      "an inline body's bad node, pointing inside the body",
      workflow("a", [map({ nodes: [{ id: "x", type: "nope" }] })]),
      [["definition.unknown_node_type", ["nodes", 0, "config", "body", "nodes", 0, "type"]]],
    ],
    [
      "an inline body's bad expression",
      workflow("a", [map({ ...inline, output: "value +" })]),
      [["definition.expression_invalid", ["nodes", 0, "config", "body", "output"]]],
    ],
    [
      "a body nested in a body",
      workflow("a", [map({ nodes: [map({ nodes: [{ id: "b", type: "transform", config: {} }] })] })]),
      [
        [
          "definition.config_invalid",
          ["nodes", 0, "config", "body", "nodes", 0, "config", "body", "nodes", 0, "config", "set"],
        ],
      ],
    ],
    [
      "a loop without maxIterations",
      workflow("a", [{ id: "l", type: "loop", config: { body: inline, until: "true", output: "o" } }]),
      [["definition.config_invalid", ["nodes", 0, "config", "maxIterations"]]],
    ],
    [
      "a map over its concurrency limit",
      workflow("a", [map(inline, { concurrency: 101 })]),
      [["definition.config_invalid", ["nodes", 0, "config", "concurrency"]]],
    ],
    [
      "a bad workflow output",
      workflow("a", [map(inline)], { output: "(" }),
      [["definition.expression_invalid", ["output"]]],
    ],
  ])("rejects %s", (_name, doc, expected) => {
    expect(issues(doc)).toEqual(expected);
  });

  it.each([
    [undefined, 100, 0],
    ["fail-fast", 100, 0],
    [{ tolerate: 5 }, 100, 5],
    [{ tolerate: "5%" }, 1_000, 50],
    [{ tolerate: "2.5%" }, 10, 0],
  ] as const)("onFailure %j over %i items tolerates %i", (onFailure, count, tolerated) => {
    expect(toleratedFailures(onFailure as never, count)).toBe(tolerated);
  });
});

describe("workflow calls", () => {
  it("finds calls in nodes and inline bodies", () => {
    const doc = workflow("a", [
      { id: "call", type: "subworkflow", config: { workflow: "b", version: 1, output: "o" } },
      map({ nodes: [{ id: "inner", type: "subworkflow", config: { workflow: "c", output: "o" } }] }),
    ]);
    expect(workflowCalls(doc)).toEqual([
      { workflowId: "b", version: 1, path: ["nodes", 0, "config", "workflow"] },
      { workflowId: "c", path: ["nodes", 1, "config", "body", "nodes", 0, "config", "workflow"] },
    ]);
  });

  const call = (id: string, to: string, version?: number) =>
    workflow(id, [
      { id: "call", type: "subworkflow", config: { workflow: to, output: "o", ...(version ? { version } : {}) } },
    ]);
  const leaf = (id: string) => workflow(id, [{ id: "t", type: "transform", config: { set: { x: "1" } } }]);

  function store(entries: Record<string, unknown[]>) {
    return async (workflowId: string, version?: number) => {
      const versions = entries[workflowId];
      if (!versions) return undefined;
      const at = version ?? versions.length;
      const definition = versions[at - 1];
      return definition === undefined ? undefined : { version: at, definition };
    };
  }

  it.each([
    ["A -> A", call("a", "a"), {}, ["definition.workflow_cycle", "workflows call each other: a -> a"]],
    ["A -> B -> A", call("a", "b"), { b: [call("b", "a")] }, ["definition.workflow_cycle", "a -> b -> a"]],
    [
      "A -> B -> C -> B (a cycle already stored, reached)",
      call("a", "b"),
      { b: [call("b", "c")], c: [call("c", "b")] },
      ["definition.workflow_cycle", "b -> c -> b"],
    ],
    ["an unknown workflow", call("a", "nope"), {}, ["definition.workflow_not_found", "nope"]],
    ["a missing pinned version", call("a", "b", 3), { b: [leaf("b")] }, ["definition.workflow_not_found", "version 3"]],
  ])("rejects %s", async (_name, doc, stored, [code, text]) => {
    const found = await checkWorkflowCalls(doc as never, store(stored as never));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code, path: ["nodes", 0, "config", "workflow"] });
    expect(found[0]?.message).toContain(text);
  });

  it.each([
    ["A -> B -> C", call("a", "b"), { b: [call("b", "c")], c: [leaf("c")] }],
    ["A -> A@1 (an old version that calls nothing)", call("a", "a", 1), { a: [leaf("a")] }],
    [
      "diamond A -> B, A -> C -> B",
      workflow("a", [
        ...call("a", "b").nodes,
        { id: "c2", type: "subworkflow", config: { workflow: "c", output: "p" } },
      ]),
      { b: [leaf("b")], c: [call("c", "b")] },
    ],
  ])("accepts %s", async (_name, doc, stored) => {
    expect(await checkWorkflowCalls(doc as never, store(stored as never))).toEqual([]);
  });
});
