import { runStatuses } from "../../../engine/state";
import type { SeriesBucket } from "../../../store/metrics-series";
import { StatusBadge } from "../../components/status-badge";
import { formatTime } from "../../format";

const width = 720;
const height = 180;
const left = 40;
const bottom = 20;

function scaleMax(values: number[]): number {
  const max = Math.max(0, ...values);
  if (max === 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / magnitude) * magnitude;
}

/** Horizontal lines at 0, half and the top, and the window's start and end under the bars. */
function Axis(props: {
  max: number;
  label: (value: number) => string;
  from?: number | undefined;
  to?: number | undefined;
}) {
  const plot = height - bottom;
  return (
    <g class="axis">
      {props.from !== undefined ? (
        <text x={left} y={height - 4} text-anchor="start">
          {formatTime(props.from)}
        </text>
      ) : null}
      {props.to !== undefined ? (
        <text x={width} y={height - 4} text-anchor="end">
          {formatTime(props.to)}
        </text>
      ) : null}
      {[0, 0.5, 1].map((share) => (
        <g>
          <line x1={left} x2={width} y1={plot - share * (plot - 8)} y2={plot - share * (plot - 8)} />
          <text x={left - 4} y={plot - share * (plot - 8) + 4} text-anchor="end">
            {props.label(props.max * share)}
          </text>
        </g>
      ))}
    </g>
  );
}

/**
 * Runs created per bucket, stacked by status, drawn on the server: no script, and the table
 * under it says the same in numbers.
 */
const countLabel = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

export function RunsChart(props: { buckets: SeriesBucket[]; to: number }) {
  const totals = props.buckets.map((bucket) => Object.values(bucket.byStatus).reduce((sum, n) => sum + n, 0));
  const max = scaleMax(totals);
  const plot = height - bottom;
  const slot = (width - left) / Math.max(1, props.buckets.length);
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="runs-chart-title">
      <title id="runs-chart-title">Runs created per interval, by status</title>
      <Axis max={max} label={countLabel} from={props.buckets[0]?.at} to={props.to} />
      {props.buckets.map((bucket, index) => {
        let y = plot;
        return (
          <g data-bucket={bucket.at}>
            <title>{`${formatTime(bucket.at)}: ${totals[index]} runs`}</title>
            {runStatuses.map((status) => {
              const count = bucket.byStatus[status] ?? 0;
              if (count === 0) return null;
              const h = (count / max) * (plot - 8);
              y -= h;
              return (
                <rect
                  class={`bar s-${status}`}
                  x={left + index * slot + 1}
                  y={y}
                  width={Math.max(1, slot - 2)}
                  height={h}
                />
              );
            })}
          </g>
        );
      })}
    </svg>
  );
}

/** One value per bucket as bars (LLM cost, tokens). */
export function BarChart(props: {
  id: string;
  title: string;
  values: number[];
  label: (value: number) => string;
  from: number;
  to: number;
}) {
  const max = scaleMax(props.values);
  const plot = height - bottom;
  const slot = (width - left) / Math.max(1, props.values.length);
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${props.id}-title`}>
      <title id={`${props.id}-title`}>{props.title}</title>
      <Axis max={max} label={props.label} from={props.from} to={props.to} />
      {props.values.map((value, index) => {
        const h = (value / max) * (plot - 8);
        return (
          <rect class="bar value" x={left + index * slot + 1} y={plot - h} width={Math.max(1, slot - 2)} height={h} />
        );
      })}
    </svg>
  );
}

/** The statuses the chart shows, in the badges' colours. */
export function StatusLegend(props: { buckets: SeriesBucket[] }) {
  const present = runStatuses.filter((status) => props.buckets.some((bucket) => (bucket.byStatus[status] ?? 0) > 0));
  return (
    <ul class="legend">
      {present.map((status) => (
        <li>
          <StatusBadge status={status} />
        </li>
      ))}
    </ul>
  );
}
