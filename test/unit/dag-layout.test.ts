import { describe, expect, it } from "vitest";
import { edgeState, type GraphNode, layoutGraph, nodeWidth } from "../../src/ui/graph/dag-layout";

function node(id: string, status = "pending"): GraphNode {
  return { id, type: "transform", status, detail: "transform" };
}

describe("the DAG layout", () => {
  it.each([
    ["success", "success", "taken"],
    ["success", "running", "taken"],
    ["success", "skipped", "skipped"],
    ["skipped", "skipped", "skipped"],
    ["success", "pending", "pending"],
    ["running", "pending", "pending"],
    ["failed", "cancelled", "pending"],
    [undefined, undefined, "pending"],
  ] as const)("an edge from %s to %s is %s", (from, to, state) => {
    expect(edgeState(from, to)).toBe(state);
  });

  it("puts each node in a layer below its predecessors, and no two nodes on top of each other", () => {
    const nodes = ["a", "b", "c", "d"].map((id) => node(id));
    const layout = layoutGraph(nodes, [
      { from: "a", to: "b", state: "taken" },
      { from: "a", to: "c", state: "skipped" },
      { from: "b", to: "d", state: "pending" },
      { from: "c", to: "d", state: "pending" },
    ]);
    const at = Object.fromEntries(layout.nodes.map((placed) => [placed.id, placed]));
    expect(at.a?.y).toBeLessThan(at.b?.y ?? 0);
    expect(at.b?.y).toBe(at.c?.y);
    expect(at.c?.y).toBeLessThan(at.d?.y ?? 0);
    expect(Math.abs((at.b?.x ?? 0) - (at.c?.x ?? 0))).toBeGreaterThanOrEqual(
      ((at.b?.width ?? 0) + (at.c?.width ?? 0)) / 2,
    );
    expect(layout.edges.map((edge) => edge.points.length >= 2)).toEqual([true, true, true, true]);
    for (const placed of layout.nodes) {
      expect(placed.x - placed.width / 2).toBeGreaterThanOrEqual(0);
      expect(placed.x + placed.width / 2).toBeLessThanOrEqual(layout.width);
    }
  });

  it("drops edges to unknown nodes and self-edges instead of failing", () => {
    const layout = layoutGraph(
      [node("a"), node("b")],
      [
        { from: "a", to: "ghost", state: "pending" },
        { from: "a", to: "a", state: "pending" },
        { from: "a", to: "b", state: "pending" },
      ],
    );
    expect(layout.edges.map((edge) => `${edge.from}>${edge.to}`)).toEqual(["a>b"]);
  });

  it("sizes nodes to their labels within bounds", () => {
    expect(nodeWidth(node("a"))).toBe(96);
    expect(nodeWidth(node("x".repeat(200)))).toBe(240);
  });

  it("places the same shape the same way whatever the statuses, and shows the statuses given", () => {
    const edges = [
      { from: "a", to: "b", state: "pending" as const },
      { from: "a", to: "c", state: "pending" as const },
    ];
    const before = layoutGraph([node("a"), node("b"), node("c")], edges);
    const after = layoutGraph(
      [node("a", "success"), node("b", "running"), node("c", "skipped")],
      [
        { from: "a", to: "b", state: "taken" },
        { from: "a", to: "c", state: "skipped" },
      ],
    );
    const at = (layout: typeof before) => layout.nodes.map((placed) => [placed.id, placed.x, placed.y]);
    expect(at(after)).toEqual(at(before));
    expect(after.nodes.map((placed) => placed.status)).toEqual(["success", "running", "skipped"]);
    expect(after.edges.map((edge) => [edge.state, edge.points])).toEqual([
      ["taken", before.edges[0]?.points],
      ["skipped", before.edges[1]?.points],
    ]);
    // A longer label widens its node: another shape, placed again.
    const wider = layoutGraph([node("a"), { ...node("b"), detail: "x".repeat(60) }, node("c")], edges);
    expect(wider.nodes[1]?.width).toBeGreaterThan(before.nodes[1]?.width ?? 0);
  });

  it("lays out a 200-node workflow of fan-outs and joins", () => {
    const nodes = Array.from({ length: 200 }, (_, index) => node(`n${index}`, index % 3 === 0 ? "success" : "pending"));
    const edges = nodes.slice(1).map((placed, index) => ({
      from: `n${Math.floor(index / 4)}`,
      to: placed.id,
      state: "pending" as const,
    }));
    const layout = layoutGraph(nodes, edges);
    expect(layout.nodes).toHaveLength(200);
    expect(layout.edges).toHaveLength(199);
    expect(new Set(layout.nodes.map((placed) => `${placed.x},${placed.y}`)).size).toBe(200);
  });
});
