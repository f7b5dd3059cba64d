import type { GraphLayout, PlacedEdge, PlacedNode } from "./dag-layout";

function path(edge: PlacedEdge): string {
  return edge.points.map((point, index) => `${index === 0 ? "M" : "L"}${point.x},${point.y}`).join(" ");
}

function Node(props: { node: PlacedNode; href: string; selected: boolean }) {
  const { node } = props;
  const left = -node.width / 2;
  const top = -node.height / 2;
  // The link's name is its visible text: the id, then the type, progress and status line.
  return (
    <a href={props.href}>
      <g
        class={`node s-${node.status}${props.selected ? " selected" : ""}`}
        data-node-id={node.id}
        data-status={node.status}
        transform={`translate(${node.x},${node.y})`}
      >
        <rect x={left} y={top} width={node.width} height={node.height} rx="6" />
        <text x="0" y="-3" text-anchor="middle">
          {node.id}
        </text>
        <text class="type" x="0" y="13" text-anchor="middle">
          {node.detail}
        </text>
      </g>
    </a>
  );
}

/**
 * The laid-out graph as SVG. Every node links to its step panel, so the graph works by
 * keyboard and without scripts; colours come from the stylesheet by status class.
 */
export function DagSvg(props: {
  layout: GraphLayout;
  hrefOf: (nodeId: string) => string;
  selected?: string | undefined;
}) {
  const { layout } = props;
  return (
    <svg
      class="dag"
      width={layout.width}
      height={layout.height}
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      aria-labelledby="graph-title"
    >
      <title>Workflow graph: every step, coloured by status</title>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path class="arrow" d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      {layout.edges.map((edge) => (
        <path
          class={`edge ${edge.state}`}
          d={path(edge)}
          marker-end="url(#arrow)"
          data-from={edge.from}
          data-to={edge.to}
          data-state={edge.state}
        />
      ))}
      {layout.nodes.map((node) => (
        <Node node={node} href={props.hrefOf(node.id)} selected={node.id === props.selected} />
      ))}
    </svg>
  );
}
