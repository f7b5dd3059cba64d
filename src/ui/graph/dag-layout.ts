import { graphlib, layout } from "@dagrejs/dagre";

/**
 * Lays a workflow's DAG out by layers with dagre, on the server: the page gets finished SVG
 * coordinates, so the browser runs no layout code and a large graph cannot freeze it.
 */
export interface GraphNode {
  id: string;
  type: string;
  status: string;
  /** A second line under the id: the type, or a map/loop/subworkflow's child progress. */
  detail: string;
}

export type EdgeState = "taken" | "skipped" | "pending";

export interface GraphEdge {
  from: string;
  to: string;
  state: EdgeState;
}

export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends GraphEdge {
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

const nodeHeight = 44;
const charWidth = 7.4;

/** Wide enough for the longer of the two lines, within bounds that keep layers readable. */
export function nodeWidth(node: GraphNode): number {
  const longest = Math.max(node.id.length, node.detail.length * 0.85);
  return Math.round(Math.min(240, Math.max(96, longest * charWidth + 24)));
}

/**
 * The state of an edge from what happened at both ends: taken when its source succeeded and
 * its target started, skipped when either end was skipped (a branch not chosen), else pending.
 */
export function edgeState(from: string | undefined, to: string | undefined): EdgeState {
  if (from === "skipped" || to === "skipped") return "skipped";
  if (from === "success" && to !== undefined && to !== "pending") return "taken";
  return "pending";
}

export function layoutGraph(nodes: GraphNode[], edges: GraphEdge[]): GraphLayout {
  const graph = new graphlib.Graph({ multigraph: false });
  graph.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const known = new Set(nodes.map((node) => node.id));
  for (const node of nodes) graph.setNode(node.id, { width: nodeWidth(node), height: nodeHeight });
  const kept = edges.filter((edge) => known.has(edge.from) && known.has(edge.to) && edge.from !== edge.to);
  for (const edge of kept) graph.setEdge(edge.from, edge.to);
  layout(graph);
  const size = graph.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes: nodes.map((node) => {
      const placed = graph.node(node.id);
      return {
        ...node,
        x: Math.round(placed.x ?? 0),
        y: Math.round(placed.y ?? 0),
        width: placed.width,
        height: placed.height,
      };
    }),
    edges: kept.map((edge) => ({
      ...edge,
      points: (graph.edge(edge.from, edge.to)?.points ?? []).map((point: { x: number; y: number }) => ({
        x: Math.round(point.x * 10) / 10,
        y: Math.round(point.y * 10) / 10,
      })),
    })),
  };
}
