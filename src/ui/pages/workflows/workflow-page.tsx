import type { WorkflowDefinition } from "../../../definition/schema";
import type { JsonChange } from "../../../lib/json-diff";
import type { RunRow as Row } from "../../../store/run-search";
import type { Can } from "../../can";
import { ChangeRow } from "../../components/change-row";
import { ScrollTable } from "../../components/scroll-table";
import { Time } from "../../format";
import type { GraphLayout } from "../../graph/dag-layout";
import { DagSvg } from "../../graph/dag-svg";
import { Shell } from "../../shell";
import { RunRow, RunTableHead } from "../runs/run-row";
import { type Trial, TrialSection } from "./trial";
import { TriggerList } from "./triggers";
import { EnabledBadge } from "./workflows-page";

export interface WorkflowPageData {
  definition: WorkflowDefinition;
  version: number;
  latestVersion: number;
  enabled: boolean;
  versions: { version: number; hash: string; createdAt: number }[];
  graph: GraphLayout;
  runs: Row[];
  nextTick: number | null;
  origin: string;
  now: number;
  start: { input: string; error?: string };
  notice?: string;
  diff?: { from: number; to: number; changes: JsonChange[] };
  trial: { request: string; result?: Trial };
}

function VersionDiff(props: {
  workflowId: string;
  versions: WorkflowPageData["versions"];
  diff: WorkflowPageData["diff"];
}) {
  const latest = props.versions[0]?.version ?? 1;
  const options = (selected: number) =>
    props.versions.map((entry) => (
      <option value={String(entry.version)} selected={entry.version === selected}>
        v{entry.version}
      </option>
    ));
  return (
    <section class="card" id="diff" aria-labelledby="diff-title">
      <h2 id="diff-title">Compare versions</h2>
      <form class="actions" method="get" action={`/ui/workflows/${encodeURIComponent(props.workflowId)}#diff`}>
        <label for="wf-from">From</label>
        <select id="wf-from" name="from">
          {options(props.diff?.from ?? Math.max(1, latest - 1))}
        </select>
        <label for="wf-to">To</label>
        <select id="wf-to" name="to">
          {options(props.diff?.to ?? latest)}
        </select>
        <button type="submit">Compare</button>
      </form>
      {props.diff ? (
        props.diff.changes.length === 0 ? (
          <p data-diff="empty">
            v{props.diff.from} and v{props.diff.to} are the same definition.
          </p>
        ) : (
          <ScrollTable label="Changes between versions" class="diff">
            <table data-diff={`${props.diff.from}-${props.diff.to}`}>
              <caption>
                From v{props.diff.from} to v{props.diff.to}: {props.diff.changes.length} changes
              </caption>
              <thead>
                <tr>
                  <th scope="col">Change</th>
                  <th scope="col">Path</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {props.diff.changes.map((change) => (
                  <ChangeRow change={change} />
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )
      ) : null}
    </section>
  );
}

function StartForm(props: { workflowId: string; start: WorkflowPageData["start"]; csrf: string; enabled: boolean }) {
  return (
    <section class="card" id="start" aria-labelledby="start-title">
      <h2 id="start-title">Start a run</h2>
      {props.enabled ? (
        <form method="post" action={`/ui/workflows/${encodeURIComponent(props.workflowId)}/runs`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <label for="input">Input (JSON, checked against the manual trigger's schema)</label>
          <textarea
            id="input"
            name="input"
            spellcheck={false}
            aria-invalid={props.start.error ? "true" : undefined}
            aria-describedby={props.start.error ? "input-error" : undefined}
          >
            {props.start.input}
          </textarea>
          {props.start.error ? (
            <p id="input-error" class="error" role="alert">
              {props.start.error}
            </p>
          ) : null}
          <div class="actions">
            <button type="submit" class="primary">
              Start run
            </button>
          </div>
        </form>
      ) : (
        <p class="note">The workflow is disabled: enable it to start runs.</p>
      )}
    </section>
  );
}

/** One workflow: its state and triggers, the graph of a version, its versions, recent runs, and a run to start. */
export function WorkflowPage(props: WorkflowPageData & { csrf: string; can: Can }) {
  const { definition } = props;
  const id = encodeURIComponent(definition.id);
  return (
    <Shell title={`Workflow ${definition.id}`} section="workflows" csrf={props.csrf}>
      <div class="run-head">
        <h1>
          {definition.name} <span class="mono">({definition.id})</span>
        </h1>
        <EnabledBadge enabled={props.enabled} />
      </div>
      {props.notice ? (
        <p class="flash ok" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.can("workflows.write") ? (
        <form class="actions" method="post" action={`/ui/workflows/${id}/${props.enabled ? "disable" : "enable"}`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" class={props.enabled ? "danger" : "primary"}>
            {props.enabled ? "Disable" : "Enable"}
          </button>
          <span class="note">
            {props.enabled
              ? "Disabled, no trigger starts a run and the schedule stops; runs in flight go on."
              : "Enabled, triggers start runs again; the schedule resumes from its next tick."}
          </span>
        </form>
      ) : null}
      <div class="grid-2">
        <section aria-labelledby="graph-title">
          <h2 id="graph-title">
            Graph of v{props.version}
            {props.version === props.latestVersion ? " (latest)" : ""}
          </h2>
          <div class="graph">
            <DagSvg layout={props.graph} hrefOf={() => `/ui/workflows/${id}?version=${props.version}`} />
          </div>
        </section>
        <div>
          <h2>Triggers</h2>
          <div class="card">
            <TriggerList
              workflowId={definition.id}
              triggers={definition.triggers}
              origin={props.origin}
              nextTick={props.nextTick}
            />
          </div>
          <h2>Versions</h2>
          <div class="table-wrap">
            <table id="versions">
              <tbody>
                {props.versions.map((entry) => (
                  <tr data-version={entry.version} class={entry.version === props.version ? "selected" : undefined}>
                    <td>
                      <a href={`/ui/workflows/${id}?version=${entry.version}`}>v{entry.version}</a>
                    </td>
                    <td class="mono">{entry.hash.slice(0, 12)}</td>
                    <td>
                      <Time ms={entry.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </div>
      {props.versions.length > 1 ? (
        <VersionDiff workflowId={definition.id} versions={props.versions} diff={props.diff} />
      ) : null}
      {props.can("runs.start") ? (
        <StartForm workflowId={definition.id} start={props.start} csrf={props.csrf} enabled={props.enabled} />
      ) : null}
      {props.can("workflows.test") ? (
        <TrialSection
          workflowId={definition.id}
          request={props.trial.request}
          tests={definition.tests?.length ?? 0}
          csrf={props.csrf}
          {...(props.trial.result ? { trial: props.trial.result } : {})}
        />
      ) : null}
      <h2>Recent runs</h2>
      {props.runs.length === 0 ? (
        <p class="note">No runs yet.</p>
      ) : (
        <div class="table-wrap">
          <table id="runs">
            <RunTableHead />
            <tbody>
              {props.runs.map((run) => (
                <RunRow run={run} now={props.now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p>
        <a href={`/ui/runs?workflow=${id}`}>All runs of {definition.id}</a>
      </p>
    </Shell>
  );
}
