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

interface Placement {
  width: number;
  height: number;
  nodes: Map<string, { x: number; y: number; width: number; height: number }>;
  edges: Map<string, { x: number; y: number }[]>;
}

/**
 * Placements by graph shape (node ids and widths, edges), most recent last. Statuses do not move
 * nodes, so a run's page re-reading itself every few seconds, or a workflow's page opened again,
 * lays out once per isolate: dagre takes hundreds of milliseconds on a dense 200-node graph.
 */
const placements = new Map<string, Placement>();
const placementsKept = 32;

function place(nodes: GraphNode[], edges: GraphEdge[]): Placement {
  const key = `${nodes.map((node) => `${node.id}\u0001${nodeWidth(node)}`).join("\u0000")}\u0002${edges
    .map((edge) => `${edge.from}\u0001${edge.to}`)
    .join("\u0000")}`;
  const cached = placements.get(key);
  if (cached) {
    placements.delete(key);
    placements.set(key, cached);
    return cached;
  }
  const graph = new graphlib.Graph({ multigraph: false });
  graph.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: nodeWidth(node), height: nodeHeight });
  for (const edge of edges) graph.setEdge(edge.from, edge.to);
  layout(graph);
  const size = graph.graph();
  const placement: Placement = {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes: new Map(
      nodes.map((node) => {
        const placed = graph.node(node.id);
        const position = { x: Math.round(placed.x ?? 0), y: Math.round(placed.y ?? 0) };
        return [node.id, { ...position, width: placed.width, height: placed.height }];
      }),
    ),
    edges: new Map(
      edges.map((edge) => [
        `${edge.from}\u0001${edge.to}`,
        (graph.edge(edge.from, edge.to)?.points ?? []).map((point: { x: number; y: number }) => ({
          x: Math.round(point.x * 10) / 10,
          y: Math.round(point.y * 10) / 10,
        })),
      ]),
    ),
  };
  placements.set(key, placement);
  if (placements.size > placementsKept) {
    const oldest = placements.keys().next().value;
    if (oldest !== undefined) placements.delete(oldest);
  }
  return placement;
}

export function layoutGraph(nodes: GraphNode[], edges: GraphEdge[]): GraphLayout {
  const known = new Set(nodes.map((node) => node.id));
  const kept = edges.filter((edge) => known.has(edge.from) && known.has(edge.to) && edge.from !== edge.to);
  const placement = place(nodes, kept);
  return {
    width: placement.width,
    height: placement.height,
    nodes: nodes.map((node) => ({
      ...node,
      ...(placement.nodes.get(node.id) ?? { x: 0, y: 0, width: nodeWidth(node), height: nodeHeight }),
    })),
    edges: kept.map((edge) => ({ ...edge, points: placement.edges.get(`${edge.from}\u0001${edge.to}`) ?? [] })),
  };
}
