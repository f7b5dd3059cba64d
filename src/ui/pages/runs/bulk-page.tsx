import { StatusBadge } from "../../components/status-badge";
import { count } from "../../format";
import { Shell } from "../../shell";
import { HiddenFilters } from "./bulk-form";

export interface BulkPreview {
  action: string;
  matched: number;
  truncated: boolean;
  wouldAct: number;
  runs: { runId: string; workflowId: string; status: string; plan: { will: string; reason?: string } }[];
}

export interface BulkOutcome {
  action: string;
  bulkId: string;
  done: number;
  skipped: number;
  refused: number;
  runs: { runId: string; outcome: string; status?: string; error?: { code: string; message: string } }[];
}

function RunLink(props: { runId: string }) {
  return (
    <a class="mono" href={`/ui/runs/${props.runId}`}>
      {props.runId}
    </a>
  );
}

/** The bulk API's dry run: every matched run and what would happen to it, then the button that does it. */
export function BulkPreviewPage(props: {
  preview: BulkPreview;
  filters: Record<string, string>;
  /** The runs ticked in the list, if any: the confirmation acts on those again. */
  runIds: string[];
  backHref: string;
  csrf: string;
}) {
  const { preview } = props;
  return (
    <Shell title={`Bulk ${preview.action}`} section="runs" csrf={props.csrf}>
      <h1>Bulk {preview.action}: preview</h1>
      <p>
        {props.runIds.length > 0 ? `${count(props.runIds.length, "run")} ticked; ` : ""}
        {preview.matched === 1 ? "1 run matches" : `${preview.matched} runs match`}; {preview.wouldAct} would be sent{" "}
        <strong>{preview.action}</strong>, the others are skipped. Nothing has been done yet.
        {preview.truncated ? " More runs match than one bulk action takes: narrow the filters to reach the rest." : ""}
      </p>
      <div class="table-wrap">
        <table id="bulk-preview">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Would</th>
            </tr>
          </thead>
          <tbody>
            {preview.runs.map((run) => (
              <tr data-run-id={run.runId} data-will={run.plan.will}>
                <td>
                  <RunLink runId={run.runId} />
                  <div class="note">{run.workflowId}</div>
                </td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>
                  {run.plan.will}
                  {run.plan.reason ? <span class="note"> ({run.plan.reason})</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {preview.wouldAct > 0 ? (
        <form method="post" action="/ui/runs/bulk" class="card confirm">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="action" value={preview.action} />
          <HiddenFilters values={props.filters} runIds={props.runIds} />
          {preview.action === "rerun" ? (
            <p>
              <label>
                <input type="checkbox" name="latest" value="true" /> Move each run onto its workflow's latest version
                first
              </label>
            </p>
          ) : null}
          <div class="actions">
            <button type="submit" class="primary">
              {`${preview.action} ${count(preview.wouldAct, "run")}`}
            </button>
            <a href={props.backHref}>Back to the runs</a>
          </div>
        </form>
      ) : (
        <p>
          Nothing to do. <a href={props.backHref}>Back to the runs</a>
        </p>
      )}
    </Shell>
  );
}

/** What the bulk action did to each run. */
export function BulkOutcomePage(props: { outcome: BulkOutcome; backHref: string; csrf: string }) {
  const { outcome } = props;
  return (
    <Shell title={`Bulk ${outcome.action}`} section="runs" csrf={props.csrf}>
      <h1>Bulk {outcome.action}: done</h1>
      <p class="flash ok" role="status">
        {outcome.done} done, {outcome.skipped} skipped, {outcome.refused} refused (bulk {outcome.bulkId}).
      </p>
      <div class="table-wrap">
        <table id="bulk-outcome">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {outcome.runs.map((run) => (
              <tr data-run-id={run.runId} data-outcome={run.outcome}>
                <td>
                  <RunLink runId={run.runId} />
                </td>
                <td>
                  {run.outcome}
                  {run.status ? <span class="note"> (now {run.status.replaceAll("_", " ")})</span> : null}
                  {run.error ? <div class="note">{run.error.message}</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        <a href={props.backHref}>Back to the runs</a>
      </p>
    </Shell>
  );
}
