import { describe, expect, it } from "vitest";
import { edit, graph, issuesOf, reference, valid } from "./definition-fixture";

describe("validateDefinition: reference definition", () => {
  it("accepts it and returns parsed configs with defaults applied", () => {
    const result = valid(reference());
    expect(result.definition.triggers).toHaveLength(1);
    expect(Object.keys(result.configs)).toEqual(["prepare", "route", "notify", "skip", "done"]);
    expect(result.configs.notify).toMatchObject({ method: "POST", headers: {}, expectStatus: ["2xx"] });
    expect(result.configs.skip).toEqual({ message: "skipped {{ reply }}", level: "info" });
  });

  it("defaults triggers to manual and edges to none", () => {
    const result = valid({ id: "solo", name: "solo", nodes: [{ id: "only", type: "log", config: { message: "hi" } }] });
    expect(result.definition.triggers).toEqual([{ type: "manual" }]);
    expect(result.definition.edges).toEqual([]);
  });
});

/** Expected issues as [code, path] pairs, in the order they are reported. */
type Case = [name: string, raw: unknown, expected: [code: string, path: (string | number)[]][], message?: RegExp];

const cases: Case[] = [
  ["not an object", null, [["definition.invalid", []]]],
  ["empty nodes", edit((d) => Object.assign(d, { nodes: [], edges: [] })), [["definition.empty", ["nodes"]]]],
  ["missing name", edit((d) => delete d.name), [["definition.invalid", ["name"]]]],
  ["bad node id", edit((d) => (d.nodes[0].id = "1-prepare")), [["definition.invalid", ["nodes", 0, "id"]]]],
  ["unknown node key", edit((d) => (d.nodes[3].color = "red")), [["definition.invalid", ["nodes", 3]]]],
  [
    "unknown node type",
    edit((d) => (d.nodes[4].type = "email")),
    [["definition.unknown_node_type", ["nodes", 4, "type"]]],
    /unknown node type "email"/,
  ],
  [
    "bad config value",
    edit((d) => (d.nodes[2].config.method = "FETCH")),
    [["definition.config_invalid", ["nodes", 2, "config", "method"]]],
  ],
  ["missing config", edit((d) => delete d.nodes[0].config), [["definition.config_invalid", ["nodes", 0, "config"]]]],
  [
    "duplicate node id",
    edit((d) => d.nodes.push({ id: "skip", type: "log", config: { message: "again" } })),
    [["definition.duplicate_node", ["nodes", 5, "id"]]],
    /duplicate node id "skip"/,
  ],
  [
    "edge to unknown node",
    edit((d) => d.edges.push({ from: "done", to: "ghost" })),
    [["definition.unknown_node", ["edges", 5, "to"]]],
    /"ghost"/,
  ],
  [
    "edge from unknown node",
    edit((d) => (d.edges[0].from = "ghost")),
    [["definition.unknown_node", ["edges", 0, "from"]]],
  ],
  [
    "2-cycle",
    graph(
      ["s", "a", "b"],
      [
        ["s", "a"],
        ["a", "b"],
        ["b", "a"],
      ],
    ),
    [["definition.cycle", ["edges", 2]]],
    /a -> b -> a/,
  ],
  [
    "3-cycle",
    graph(
      ["s", "a", "b", "c"],
      [
        ["s", "a"],
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
      ],
    ),
    [["definition.cycle", ["edges", 3]]],
    /a -> b -> c -> a/,
  ],
  [
    "cycle with no entry node",
    graph(
      ["a", "b"],
      [
        ["a", "b"],
        ["b", "a"],
      ],
    ),
    [["definition.cycle", ["edges", 1]]],
  ],
  [
    "self edge",
    graph(
      ["s", "a"],
      [
        ["s", "a"],
        ["a", "a"],
      ],
    ),
    [["definition.cycle", ["edges", 1]]],
    /a -> a/,
  ],
  [
    "duplicate edge",
    graph(
      ["s", "a"],
      [
        ["s", "a"],
        ["s", "a"],
      ],
    ),
    [["definition.duplicate_edge", ["edges", 1]]],
  ],
  [
    "branch case to an unknown node (its old target becomes unreachable)",
    edit((d) => (d.nodes[1].config.cases[0].to = "ghost")),
    [
      ["definition.branch_target", ["nodes", 1, "config", "cases", 0, "to"]],
      ["definition.unreachable", ["nodes", 2]],
    ],
  ],
  [
    "branch case to a node with no edge from the branch",
    edit((d) => d.edges.splice(1, 1)),
    [["definition.branch_target", ["nodes", 1, "config", "cases", 0, "to"]]],
    /no edge route -> notify/,
  ],
  [
    "branch default to a node with no edge",
    edit((d) => (d.nodes[1].config.default = "done")),
    [
      ["definition.branch_target", ["nodes", 1, "config", "default"]],
      ["definition.unreachable", ["nodes", 3]],
    ],
  ],
  [
    "unreachable branch successor",
    edit((d) => delete d.nodes[1].config.default),
    [["definition.unreachable", ["nodes", 3]]],
    /"route" does not route to it/,
  ],
  [
    "invalid JSONata in transform",
    edit((d) => (d.nodes[0].config.set.reply = "input.message +")),
    [["definition.expression_invalid", ["nodes", 0, "config", "set", "reply"]]],
    /Unexpected end of expression/,
  ],
  [
    "invalid JSONata in branch",
    edit((d) => (d.nodes[1].config.cases[0].when = "priority = ")),
    [["definition.expression_invalid", ["nodes", 1, "config", "cases", 0, "when"]]],
  ],
  [
    "invalid JSONata in http body",
    edit((d) => (d.nodes[2].config.body = "{ 'text': ")),
    [["definition.expression_invalid", ["nodes", 2, "config", "body"]]],
  ],
  [
    "invalid JSONata in template url",
    edit((d) => (d.nodes[2].config.url = "https://example.com/{{ run.id + }}")),
    [["definition.expression_invalid", ["nodes", 2, "config", "url"]]],
  ],
  [
    "empty template placeholder",
    edit((d) => (d.nodes[3].config.message = "skipped {{ }}")),
    [["definition.expression_invalid", ["nodes", 3, "config", "message"]]],
    /empty/,
  ],
  [
    "transform writes a reserved key",
    edit((d) => (d.nodes[0].config.set.input = "'overwritten'")),
    [["definition.reserved_key", ["nodes", 0, "config", "set", "input"]]],
    /"input"/,
  ],
  [
    "http output into a reserved key",
    edit((d) => (d.nodes[2].config.output = "run")),
    [["definition.reserved_key", ["nodes", 2, "config", "output"]]],
  ],
  [
    "invalid trigger schema type",
    edit((d) => (d.triggers[0].schema = { type: "strnig" })),
    [["definition.schema_invalid", ["triggers", 0, "schema"]]],
    /strnig/,
  ],
  [
    "trigger schema with an unresolved $ref",
    edit((d) => (d.triggers[0].schema = { $ref: "#/$defs/missing" })),
    [["definition.schema_invalid", ["triggers", 0, "schema"]]],
  ],
  [
    "trigger schema with a bad nested pattern",
    edit((d) => (d.triggers[0].schema = { properties: { name: { pattern: "(" } } })),
    [["definition.schema_invalid", ["triggers", 0, "schema"]]],
    /#\/properties\/name\/pattern/,
  ],
  [
    "two triggers of one type",
    edit((d) => d.triggers.push({ type: "webhook" })),
    [["definition.invalid", ["triggers", 1, "type"]]],
  ],
  [
    "bad timeout duration",
    edit((d) => (d.nodes[2].timeout = "10 seconds")),
    [["definition.invalid", ["nodes", 2, "timeout"]]],
  ],
  [
    "bad retry duration",
    edit((d) => (d.nodes[2].retry.initialDelay = "soon")),
    [["definition.invalid", ["nodes", 2, "retry", "initialDelay"]]],
  ],
];

describe("validateDefinition: rejections", () => {
  it.each(cases)("%s", (_name, raw, expected, message) => {
    const issues = issuesOf(raw);
    expect(issues.map(({ code, path }) => [code, path])).toEqual(expected);
    if (message) expect(issues[0]?.message).toMatch(message);
  });

  it("reports independent problems together, in document order", () => {
    const doc = edit((d) => {
      d.edges.push({ from: "done", to: "ghost" });
      d.nodes[4].config.message = "{{ ( }}";
      delete d.name;
      d.triggers[0].schema = { type: 7 };
      d.nodes[0].type = "nope";
    });
    expect(issuesOf(doc).map(({ code, path }) => ({ code, path }))).toEqual([
      { code: "definition.schema_invalid", path: ["triggers", 0, "schema"] },
      { code: "definition.unknown_node_type", path: ["nodes", 0, "type"] },
      { code: "definition.expression_invalid", path: ["nodes", 4, "config", "message"] },
      { code: "definition.unknown_node", path: ["edges", 5, "to"] },
      { code: "definition.invalid", path: ["name"] },
    ]);
  });

  it("skips graph checks while a node is malformed, so dangling edges are not reported", () => {
    const doc = edit((d) => (d.nodes[4] = { id: "done", type: "log", config: { message: "x" }, bogus: true }));
    expect(issuesOf(doc).map((issue) => issue.code)).toEqual(["definition.invalid"]);
  });
});
