import { isActiveStatus } from "../../../routes/ui/run-filters";
import type { RunRow as Row } from "../../../store/run-search";
import { StatusBadge } from "../../components/status-badge";
import { formatDuration, Time } from "../../format";

/**
 * One run in the list. A row still moving polls its own fragment (htmx, every 5 s) and is
 * swapped for the fresh one, which stops polling once the run has ended. A selectable row (the
 * runs list's) starts with a checkbox for the bulk actions; htmx keeps the ticked box across swaps.
 */
export function RunRow(props: { run: Row; now: number; selectable?: boolean }) {
  const { run, selectable = false } = props;
  const active = isActiveStatus(run.status);
  const end = run.endedAt ?? (active ? props.now : null);
  const rowHref = `/ui/runs/${run.id}/row${selectable ? "?select=1" : ""}`;
  const live = active ? { "hx-get": rowHref, "hx-trigger": "every 5s", "hx-swap": "outerHTML" } : {};
  return (
    <tr data-run-id={run.id} data-status={run.status} {...live}>
      {selectable ? (
        <td class="pick">
          <input
            type="checkbox"
            name="runId"
            value={run.id}
            id={`select-${run.id}`}
            aria-label={`Select run ${run.id}`}
            hx-preserve="true"
          />
        </td>
      ) : null}
      <td>
        <a class="mono" href={`/ui/runs/${run.id}`}>
          {run.id}
        </a>
        {run.parentRunId ? (
          <div class="note">
            child of <a href={`/ui/runs/${run.parentRunId}`}>{run.parentRunId}</a>
          </div>
        ) : null}
      </td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td>
        <a href={`/ui/runs?workflow=${encodeURIComponent(run.workflowId)}`}>{run.workflowId}</a>
        <span class="note"> v{run.version}</span>
      </td>
      <td class="hide-narrow">{run.triggerType}</td>
      <td class="hide-narrow">
        <Time ms={run.createdAt} />
      </td>
      <td class="hide-narrow">{formatDuration(end === null ? null : end - (run.startedAt ?? run.createdAt))}</td>
      <td class="hide-narrow">{run.errorCode ? <code>{run.errorCode}</code> : null}</td>
    </tr>
  );
}

export function RunTableHead(props: { selectable?: boolean } = {}) {
  return (
    <thead>
      <tr>
        {props.selectable ? (
          <th scope="col" class="pick">
            <span class="pick-label">Select</span>
          </th>
        ) : null}
        <th scope="col">Run</th>
        <th scope="col">Status</th>
        <th scope="col">Workflow</th>
        <th scope="col" class="hide-narrow">
          Trigger
        </th>
        <th scope="col" class="hide-narrow">
          Created
        </th>
        <th scope="col" class="hide-narrow">
          Duration
        </th>
        <th scope="col" class="hide-narrow">
          Error
        </th>
      </tr>
    </thead>
  );
}
