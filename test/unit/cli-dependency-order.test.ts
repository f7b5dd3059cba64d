import { describe, expect, it } from "vitest";
import { dependencyOrder } from "../../cli/dependency-order";

describe("dependencyOrder (push registers callees first)", () => {
  it.each([
    {
      name: "keeps the given order when nothing calls anything",
      nodes: [
        { id: "b", calls: [] },
        { id: "a", calls: [] },
      ],
      order: ["b", "a"],
    },
    {
      name: "moves a callee before its caller",
      nodes: [
        { id: "many", calls: ["one"] },
        { id: "one", calls: [] },
      ],
      order: ["one", "many"],
    },
    {
      name: "orders a chain deepest first",
      nodes: [
        { id: "top", calls: ["middle"] },
        { id: "middle", calls: ["leaf"] },
        { id: "leaf", calls: [] },
      ],
      order: ["leaf", "middle", "top"],
    },
    {
      name: "ignores calls to workflows outside the push and calls to itself",
      nodes: [
        { id: "a", calls: ["elsewhere", "a"] },
        { id: "b", calls: ["a", "a"] },
      ],
      order: ["a", "b"],
    },
  ])("$name", ({ nodes, order }) => {
    expect(dependencyOrder(nodes)).toEqual({ ok: true, order });
  });

  it("names a cycle among the files as a closed path", () => {
    const result = dependencyOrder([
      { id: "free", calls: [] },
      { id: "a", calls: ["b"] },
      { id: "b", calls: ["c"] },
      { id: "c", calls: ["a"] },
    ]);
    expect(result).toEqual({ ok: false, cycle: ["a", "b", "c", "a"] });
  });
});
