import type { MetricsReport } from "../../../routes/metrics-format";
import type { SeriesBucket } from "../../../store/metrics-series";
import { ScrollTable } from "../../components/scroll-table";
import { formatDuration } from "../../format";
import { Shell } from "../../shell";
import { BarChart, RunsChart, StatusLegend } from "./charts";

export const metricWindows = { "1h": 300_000, "24h": 3_600_000, "7d": 21_600_000, "30d": 86_400_000 } as const;
export type MetricWindow = keyof typeof metricWindows;

function percent(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)} %`;
}

function Figure(props: { label: string; value: string; name: string }) {
  return (
    <div class="card figure" data-metric={props.name}>
      <div class="note">{props.label}</div>
      <div class="figure-value">{props.value}</div>
    </div>
  );
}

/** The window's figures, runs over time, LLM spend over time, and the slowest steps. */
export function MetricsPage(props: {
  report: MetricsReport;
  series: SeriesBucket[];
  window: MetricWindow;
  workflow?: string;
  workflows: string[];
  problems: string[];
  csrf: string;
}) {
  const { report } = props;
  const steps = [...report.steps].sort((a, b) => (b.p95 ?? 0) - (a.p95 ?? 0)).slice(0, 20);
  return (
    <Shell title="Metrics" section="metrics" csrf={props.csrf}>
      <h1>Metrics</h1>
      <form class="actions" method="get" action="/ui/metrics">
        <label for="m-window">Window</label>
        <select id="m-window" name="window">
          {Object.keys(metricWindows).map((key) => (
            <option value={key} selected={key === props.window}>
              last {key}
            </option>
          ))}
        </select>
        <label for="m-workflow">Workflow</label>
        <select id="m-workflow" name="workflow">
          <option value="">All workflows</option>
          {props.workflows.map((id) => (
            <option value={id} selected={id === props.workflow}>
              {id}
            </option>
          ))}
        </select>
        <button type="submit">Show</button>
      </form>
      {props.problems.length > 0 ? (
        <div class="flash bad" role="alert">
          {props.problems.join("; ")}
        </div>
      ) : null}
      <div class="figures">
        <Figure name="runs" label="Runs" value={String(report.runs.total)} />
        <Figure name="success-rate" label="Succeeded (of ended)" value={percent(report.runs.successRate)} />
        <Figure name="review-rate" label="Asked a person" value={percent(report.runs.reviewRate)} />
        <Figure name="queue-lag" label="Queue lag p95" value={formatDuration(report.queueLag.p95)} />
        <Figure name="retries" label="Retries" value={String(report.retries.total)} />
        <Figure name="dead-letters" label="Dead letters" value={String(report.deadLetters.count)} />
        <Figure
          name="llm"
          label="LLM tokens · cost"
          value={`${report.llm.inputTokens + report.llm.outputTokens} · $${report.llm.costUsd.toFixed(2)}`}
        />
      </div>
      <h2>Runs over time</h2>
      <div class="card">
        <RunsChart buckets={props.series} to={report.window.to} />
        <StatusLegend buckets={props.series} />
      </div>
      <h2>LLM cost over time</h2>
      <div class="card">
        <BarChart
          id="llm-cost"
          title="LLM cost per interval, USD"
          values={props.series.map((bucket) => bucket.costUsd)}
          label={(value) => `$${value.toFixed(2)}`}
          from={report.window.from}
          to={report.window.to}
        />
      </div>
      <h2>Steps by p95 duration</h2>
      {steps.length === 0 ? (
        <p class="note">No step ran in this window.</p>
      ) : (
        <ScrollTable label="Steps by p95 duration">
          <table id="steps">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Count</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
                <th scope="col" class="hide-narrow">
                  Max
                </th>
              </tr>
            </thead>
            <tbody>
              {steps.map((step) => (
                <tr data-node={`${step.workflowId}/${step.nodeId}`}>
                  <td>
                    <code>{step.nodeId}</code>
                    <div class="note">
                      {step.workflowId} · {step.type}
                    </div>
                  </td>
                  <td>{step.count}</td>
                  <td>{formatDuration(step.p50)}</td>
                  <td>{formatDuration(step.p95)}</td>
                  <td class="hide-narrow">{formatDuration(step.max)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </Shell>
  );
}
