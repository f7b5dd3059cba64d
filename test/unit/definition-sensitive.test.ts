import { describe, expect, it } from "vitest";
import { sensitivePolicyOf } from "../../src/definition/sensitive-checks";
import { validateDefinition } from "../../src/definition/validate";

function workflow(extra: Record<string, unknown> = {}, schema?: unknown) {
  return {
    id: "card-check",
    name: "Card check",
    triggers: [schema === undefined ? { type: "manual" } : { type: "manual", schema }],
    nodes: [
      { id: "mask", type: "transform", config: { set: { masked: "input.card.brand", ssn: "input.ssn" } } },
      { id: "say", type: "log", config: { message: "done" } },
    ],
    edges: [{ from: "mask", to: "say" }],
    ...extra,
  };
}

function issues(raw: unknown): [string, (string | number)[], string][] {
  const result = validateDefinition(raw);
  return result.ok ? [] : result.issues.map((issue) => [issue.code, issue.path, issue.message]);
}

describe("definition: sensitive", () => {
  it("accepts context keys nodes write, input paths, and a node's output", () => {
    const raw = workflow({ sensitive: { context: ["ssn"], input: ["card.number"] } });
    (raw.nodes[0] as Record<string, unknown>).sensitive = "output";
    const result = validateDefinition(raw);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const policy = sensitivePolicyOf(
      result.definition.sensitive,
      result.definition.nodes.map((node) => ({ id: node.id, sensitive: node.sensitive, writes: [] })),
    );
    expect(policy?.inputPaths).toEqual([["card", "number"]]);
  });

  it("a context key no node writes is 422 with its path", () => {
    expect(issues(workflow({ sensitive: { context: ["ssn", "password"] } }))).toEqual([
      [
        "definition.sensitive_unwritten",
        ["sensitive", "context", 1],
        'sensitive context key "password" is written by no node',
      ],
    ]);
  });

  it("a reserved key is not a context key to mark: its fields go under input", () => {
    expect(issues(workflow({ sensitive: { context: ["input"] } }))[0]?.slice(0, 2)).toEqual([
      "definition.sensitive_unwritten",
      ["sensitive", "context", 0],
    ]);
  });

  it("a node that writes nothing cannot mark its output", () => {
    const raw = workflow();
    (raw.nodes[1] as Record<string, unknown>).sensitive = "output";
    expect(issues(raw)).toEqual([
      [
        "definition.sensitive_unwritten",
        ["nodes", 1, "sensitive"],
        'node "say" is marked sensitive: "output" but writes no context key',
      ],
    ]);
  });

  it("an input field no trigger schema declares is 422; without schemas any field may be marked", () => {
    const schema = {
      type: "object",
      properties: { card: { type: "object", properties: { number: { type: "string" } } } },
    };
    expect(issues(workflow({ sensitive: { input: ["card.number"] } }, schema))).toEqual([]);
    expect(issues(workflow({ sensitive: { input: ["card.cvv"] } }, schema))).toEqual([
      [
        "definition.sensitive_unwritten",
        ["sensitive", "input", 0],
        'sensitive input field "card.cvv" is declared by no trigger\'s schema',
      ],
    ]);
    expect(issues(workflow({ sensitive: { input: ["anything.at.all"] } }))).toEqual([]);
  });

  it("an llm node may not cache its answers in a workflow that marks sensitive data", () => {
    const raw = workflow({ sensitive: { context: ["ssn"] } });
    raw.nodes.push({ id: "ask", type: "llm", config: { prompt: "hi", output: "said", cache: true } } as never);
    expect(issues(raw).map(([code, at]) => [code, at])).toEqual([
      ["definition.config_invalid", ["nodes", 2, "config", "cache"]],
    ]);
    expect(issues({ ...raw, sensitive: undefined })).toEqual([]);
  });

  it.each([
    [{ sensitive: { context: [] } }, ["sensitive", "context"]],
    [{ sensitive: { input: ["card..number"] } }, ["sensitive", "input", 0]],
    [{ sensitive: { output: true } }, ["sensitive"]],
  ])("malformed %j is definition.invalid", (extra, path) => {
    expect(issues(workflow(extra)).map(([code, at]) => [code, at])).toContainEqual(["definition.invalid", path]);
  });

  it('a node\'s sensitive is only "output"', () => {
    const raw = workflow();
    (raw.nodes[0] as Record<string, unknown>).sensitive = "input";
    expect(issues(raw).map(([code, at]) => [code, at])).toContainEqual([
      "definition.invalid",
      ["nodes", 0, "sensitive"],
    ]);
  });
});
