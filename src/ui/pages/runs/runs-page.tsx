import { runStatuses } from "../../../engine/state";
import { type RunFilters, runsHref } from "../../../routes/ui/run-filters";
import type { RunRow as Row } from "../../../store/run-search";
import type { Can } from "../../can";
import { StatusBadge } from "../../components/status-badge";
import { Shell } from "../../shell";
import { BulkForm } from "./bulk-form";
import { FilterForm } from "./filter-form";
import { RunRow, RunTableHead } from "./run-row";

export interface RunsPageData {
  filters: RunFilters;
  runs: Row[];
  nextCursor: string | null;
  counts: Record<string, number>;
  workflows: string[];
  origin: string;
  now: number;
}

function StatusCounts(props: { filters: RunFilters; counts: Record<string, number> }) {
  const { values } = props.filters;
  const total = Object.values(props.counts).reduce((sum, value) => sum + value, 0);
  return (
    <ul class="counts" aria-label="Runs by status">
      <li>
        <a href={runsHref(values, { status: undefined, cursor: undefined })} aria-current={!values.status}>
          all <strong>{total}</strong>
        </a>
      </li>
      {runStatuses
        .filter((status) => (props.counts[status] ?? 0) > 0 || status === values.status)
        .map((status) => (
          <li>
            <a
              href={runsHref(values, { status, cursor: undefined })}
              aria-current={status === values.status}
              data-count-status={status}
            >
              <StatusBadge status={status} /> <strong>{props.counts[status] ?? 0}</strong>
            </a>
          </li>
        ))}
    </ul>
  );
}

/** No runs at all: how the first one starts. No runs matching: how to widen the search. */
function EmptyState(props: { filtered: boolean; origin: string }) {
  if (props.filtered) {
    return (
      <div class="card empty">
        <p>No runs match these filters.</p>
        <p>
          <a href="/ui/runs">Clear the filters</a> to see every run.
        </p>
      </div>
    );
  }
  return (
    <div class="card empty">
      <h2>No runs yet</h2>
      <p>
        A run starts when a trigger fires. <code>npm run dev</code> registers the workflows in <code>workflows/</code>.
        Send the support-ticket workflow its first webhook:
      </p>
      <pre>{`curl -X POST ${props.origin}/hooks/support-ticket \\
  -H "content-type: application/json" \\
  -d '{"id": "T-1", "name": "Ada", "text": "The site is down"}'`}</pre>
      <p class="note">
        Elsewhere, register a workflow first: <code>POST /api/workflows</code> with its definition (see
        docs/definitions.md).
      </p>
      <p class="note">The run shows up here at once, and in GET /api/runs.</p>
    </div>
  );
}

/** The table of runs; with ticks and the bulk controls around it for a role that may act on runs. */
function RunTable(props: { filters: RunFilters; runs: Row[]; now: number; selectable: boolean }) {
  const { filters, selectable } = props;
  return (
    <div class="table-wrap">
      <table id="runs">
        <caption>Newest first{filters.cursor ? " (an older page)" : ""}</caption>
        <RunTableHead selectable={selectable} />
        <tbody>
          {props.runs.map((run) => (
            <RunRow run={run} now={props.now} selectable={selectable} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RunsPage(props: RunsPageData & { csrf: string; can: Can }) {
  const { filters } = props;
  const filtered = Object.keys(filters.values).some((name) => name !== "cursor");
  return (
    <Shell title="Runs" section="runs" csrf={props.csrf}>
      <h1>Runs</h1>
      <FilterForm values={filters.values} workflows={props.workflows} />
      {filters.problems.length > 0 ? (
        <div class="flash bad" role="alert">
          {filters.problems.map((problem) => (
            <div>{problem}</div>
          ))}
        </div>
      ) : null}
      <StatusCounts filters={filters} counts={props.counts} />
      {props.runs.length === 0 ? (
        <EmptyState filtered={filtered || filters.cursor !== undefined} origin={props.origin} />
      ) : props.can("runs.act") ? (
        <form id="bulk-select" method="get" action="/ui/runs/bulk">
          <BulkForm values={filters.values} />
          <RunTable filters={filters} runs={props.runs} now={props.now} selectable />
        </form>
      ) : (
        <RunTable filters={filters} runs={props.runs} now={props.now} selectable={false} />
      )}
      <nav class="pager" aria-label="Pages">
        {filters.cursor ? <a href={runsHref(filters.values, { cursor: undefined })}>Newest runs</a> : <span />}
        {props.nextCursor ? (
          <a href={runsHref(filters.values, { cursor: props.nextCursor })} rel="next">
            Older runs
          </a>
        ) : null}
      </nav>
    </Shell>
  );
}
