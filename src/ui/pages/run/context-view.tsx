import type { JsonChange } from "../../../lib/json-diff";
import type { ExecutionReport } from "../../../run/report";
import { ChangeRow } from "../../components/change-row";
import { ScrollTable } from "../../components/scroll-table";
import { Time } from "../../format";
import { JsonBlock } from "./json-block";

export interface ContextData {
  version: number;
  context: unknown;
  /** Large values resolved from R2 instead of shown as references. */
  inline?: boolean;
  diff?: { from: number; to: number; changes: JsonChange[] };
}

function VersionOptions(props: { versions: ExecutionReport["contextVersions"]; selected: number }) {
  return (
    <>
      {props.versions.map((entry) => (
        <option value={String(entry.version)} selected={entry.version === props.selected}>
          {`v${entry.version}${entry.nodeId ? ` · ${entry.nodeId}` : " · start"}`}
        </option>
      ))}
    </>
  );
}

/** The context at one version (GET form), and what changed between two (another GET form). */
export function ContextView(props: {
  runId: string;
  versions: ExecutionReport["contextVersions"];
  data: ContextData;
  step?: string | undefined;
}) {
  const { data, versions } = props;
  const entry = versions.find((item) => item.version === data.version);
  const diff = data.diff;
  const latest = versions[versions.length - 1]?.version ?? 0;
  return (
    <section class="card" id="context" aria-labelledby="context-title">
      <h2 id="context-title">Context</h2>
      <form method="get" action={`/ui/runs/${props.runId}#context`} class="actions">
        {props.step ? <input type="hidden" name="step" value={props.step} /> : null}
        <label for="ctx-version">Version</label>
        <select id="ctx-version" name="version">
          <VersionOptions versions={versions} selected={data.version} />
        </select>
        <button type="submit">Show</button>
      </form>
      <p class="note">
        v{data.version} {entry?.nodeId ? `written by ${entry.nodeId}` : "(the run's initial context)"}
        {entry ? (
          <>
            {" "}
            at <Time ms={entry.createdAt} />
          </>
        ) : null}
        .
      </p>
      {data.inline ? (
        <p class="note">
          Large values are shown in full.{" "}
          <a href={`/ui/runs/${props.runId}?version=${data.version}#context`}>Show them as references</a>
        </p>
      ) : JSON.stringify(data.context).includes('"$signalbox.blob"') ? (
        <p class="note">
          Large values are stored apart and shown as references (<code>$signalbox.blob</code>).{" "}
          <a href={`/ui/runs/${props.runId}?version=${data.version}&inline=1#context`} data-open-blobs>
            Open them
          </a>
        </p>
      ) : null}
      <JsonBlock value={data.context} label={`Context at version ${data.version}`} />
      <h3 id="diff">Compare versions</h3>
      <form method="get" action={`/ui/runs/${props.runId}#diff`} class="actions">
        {props.step ? <input type="hidden" name="step" value={props.step} /> : null}
        <input type="hidden" name="version" value={String(data.version)} />
        <label for="diff-from">From</label>
        <select id="diff-from" name="from">
          <VersionOptions versions={versions} selected={diff?.from ?? Math.max(0, latest - 1)} />
        </select>
        <label for="diff-to">To</label>
        <select id="diff-to" name="to">
          <VersionOptions versions={versions} selected={diff?.to ?? latest} />
        </select>
        <button type="submit">Compare</button>
      </form>
      {diff ? (
        diff.changes.length === 0 ? (
          <p data-diff="empty">
            No changes from v{diff.from} to v{diff.to}.
          </p>
        ) : (
          <ScrollTable label="Changes between versions" class="diff">
            <table data-diff={`${diff.from}-${diff.to}`}>
              <caption>
                From v{diff.from} to v{diff.to}: {diff.changes.length} changes
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
                {diff.changes.map((change) => (
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
