import { isActiveStatus } from "../../../routes/ui/run-filters";
import type { ExecutionReport } from "../../../run/report";
import type { Can } from "../../can";
import { StatusBadge } from "../../components/status-badge";
import { formatDuration, Time } from "../../format";
import type { GraphLayout } from "../../graph/dag-layout";
import { DagSvg } from "../../graph/dag-svg";
import { Shell } from "../../shell";
import { type ContextData, ContextView } from "./context-view";
import { JsonBlock } from "./json-block";
import { type OperationRow, Operations } from "./operations";
import { RunActions } from "./run-actions";
import { StepPanel } from "./step-panel";
import { Timeline } from "./timeline";

export interface RunPageData {
  report: ExecutionReport;
  graph: GraphLayout;
  step?: string;
  context: ContextData | { error: string };
  operations: OperationRow[];
  notice?: string;
  problems: string[];
  now: number;
  /** When retention deletes the run (as D1 holds it), and the hold that keeps it; undefined: D1 does not know the run yet. */
  retention?: { deleteAfter: number | null; heldAt: number | null };
  /** The page's own URL: live refresh asks for it again and keeps only the live part. */
  self: string;
}

/** When the run will be deleted: a time, held, kept, or not yet known. */
function Retention(props: { report: ExecutionReport; retention: RunPageData["retention"] }) {
  const { retention, report } = props;
  if (retention?.heldAt != null) {
    return (
      <>
        held since <Time ms={retention.heldAt} />: kept until the hold is lifted
      </>
    );
  }
  if (retention?.deleteAfter != null) return <Time ms={retention.deleteAfter} />;
  if (report.endedAt === undefined) return <>when it has ended</>;
  if (report.parent) return <>with its parent run</>;
  return <>never (no retention is set)</>;
}

function Facts(props: { report: ExecutionReport; now: number; retention: RunPageData["retention"] }) {
  const { report } = props;
  const end = report.endedAt ?? props.now;
  return (
    <dl class="facts card">
      <dt>Workflow</dt>
      <dd>
        <a href={`/ui/runs?workflow=${encodeURIComponent(report.workflowId)}`}>{report.workflowId}</a> v{report.version}
      </dd>
      <dt>Created</dt>
      <dd>
        <Time ms={report.createdAt} />
      </dd>
      <dt>Ended</dt>
      <dd>
        <Time ms={report.endedAt} />
      </dd>
      <dt>Duration</dt>
      <dd>{formatDuration(end - (report.startedAt ?? report.createdAt))}</dd>
      <dt>Deleted after</dt>
      <dd>
        <Retention report={report} retention={props.retention} />
      </dd>
      {report.paused ? (
        <>
          <dt>Paused</dt>
          <dd>
            since <Time ms={report.paused.at} />
            {report.paused.reason ? ` — ${report.paused.reason}` : ""} ({report.paused.heldTimers} timers held)
          </dd>
        </>
      ) : null}
      {report.replayOf ? (
        <>
          <dt>Replay of</dt>
          <dd>
            <a href={`/ui/runs/${report.replayOf.runId}`}>{report.replayOf.runId}</a> from{" "}
            <code>{report.replayOf.fromNode}</code>
          </dd>
        </>
      ) : null}
      {report.parent ? (
        <>
          <dt>Parent run</dt>
          <dd>
            <a href={`/ui/runs/${report.parent.runId}`}>{report.parent.runId}</a>
          </dd>
        </>
      ) : null}
      {report.flow?.waitingFor ? (
        <>
          <dt>Waiting for</dt>
          <dd data-waiting-for={report.flow.waitingFor.kind}>
            {report.flow.waitingFor.kind} slot for key <code>{report.flow.waitingFor.key}</code>: position{" "}
            {report.flow.waitingFor.position} in the queue, {report.flow.waitingFor.running} of{" "}
            {report.flow.waitingFor.limit} running
          </dd>
        </>
      ) : null}
      {report.flow?.keyErrors?.length ? (
        <>
          <dt>Flow keys</dt>
          <dd>
            {report.flow.keyErrors.map((error) => (
              <div>
                <code>{error.part}</code> went under key <code>_</code>: {error.message}
              </div>
            ))}
          </dd>
        </>
      ) : null}
      {report.llm ? (
        <>
          <dt>LLM</dt>
          <dd>
            {report.llm.calls} calls · {report.llm.inputTokens + report.llm.outputTokens} tokens · $
            {report.llm.costUsd.toFixed(4)}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** One run: what it is doing (live while it moves), its graph, timeline, steps and context. */
export function RunPage(props: RunPageData & { csrf: string; can: Can }) {
  const { report } = props;
  const active = isActiveStatus(report.status);
  const stepHref = (nodeId: string) => `/ui/runs/${report.runId}?step=${encodeURIComponent(nodeId)}#step`;
  const selected = report.steps.find((step) => step.nodeId === props.step);
  const live = active
    ? { "hx-get": props.self, "hx-trigger": "every 3s", "hx-select": "#live", "hx-swap": "outerHTML" }
    : {};
  return (
    <Shell title={`Run ${report.runId}`} section="runs" csrf={props.csrf}>
      <div id="live" data-run-status={report.status} {...live}>
        <div class="run-head">
          <h1>
            Run <span class="mono">{report.runId}</span>
          </h1>
          <StatusBadge status={report.status} />
        </div>
        {props.notice ? (
          <p class="flash ok" role="status">
            {props.notice}
          </p>
        ) : null}
        {props.problems.length > 0 ? (
          <div class="flash bad" role="alert">
            {props.problems.map((problem) => (
              <div>{problem}</div>
            ))}
          </div>
        ) : null}
        <RunActions
          runId={report.runId}
          status={report.status}
          can={props.can}
          {...(props.retention ? { held: props.retention.heldAt !== null } : {})}
        />
        {report.error ? (
          <div class="card">
            <h2>Error</h2>
            <JsonBlock value={report.error} label="Run error" />
          </div>
        ) : null}
        <div class="grid-2">
          <section aria-labelledby="graph-title">
            <h2 id="graph-title">Graph</h2>
            <div class="graph">
              <DagSvg layout={props.graph} hrefOf={stepHref} selected={props.step} />
            </div>
          </section>
          <div>
            <h2>Details</h2>
            <Facts report={report} now={props.now} retention={props.retention} />
          </div>
        </div>
        {selected ? (
          <StepPanel
            runId={report.runId}
            step={selected}
            versionHref={(version) =>
              `/ui/runs/${report.runId}?step=${encodeURIComponent(selected.nodeId)}&version=${version}#context`
            }
          />
        ) : (
          <p class="note">Choose a step in the graph or the timeline to see its attempts, output and calls.</p>
        )}
        <h2>Timeline</h2>
        <Timeline report={report} now={props.now} selected={props.step} hrefOf={stepHref} />
      </div>
      {"error" in props.context ? (
        <section class="card" id="context">
          <h2>Context</h2>
          <p class="error">{props.context.error}</p>
        </section>
      ) : (
        <ContextView runId={report.runId} versions={report.contextVersions} data={props.context} step={props.step} />
      )}
      <Operations operations={props.operations} runId={report.runId} />
    </Shell>
  );
}
