import { runStatuses } from "../../../engine/state";
import type { RunFilters } from "../../../routes/ui/run-filters";

/** A GET form: filters are in the URL, so a filtered list can be bookmarked and shared. */
export function FilterForm(props: { values: RunFilters["values"]; workflows: string[] }) {
  const { values } = props;
  return (
    <search aria-label="Filter runs">
      <form class="card filters" method="get" action="/ui/runs">
        <div>
          <label for="f-q">Run id</label>
          <input id="f-q" name="q" type="search" value={values.q ?? ""} placeholder="run_…" />
        </div>
        <div>
          <label for="f-workflow">Workflow</label>
          <select id="f-workflow" name="workflow">
            <option value="">All workflows</option>
            {[...new Set([...props.workflows, ...(values.workflow ? [values.workflow] : [])])].map((id) => (
              <option value={id} selected={id === values.workflow}>
                {id}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any status</option>
            {runStatuses.map((status) => (
              <option value={status} selected={status === values.status}>
                {status.replaceAll("_", " ")}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-from">Created from (UTC)</label>
          <input id="f-from" name="from" type="datetime-local" value={values.from ?? ""} />
        </div>
        <div>
          <label for="f-to">Created until (UTC)</label>
          <input id="f-to" name="to" type="datetime-local" value={values.to ?? ""} />
        </div>
        <div>
          <label for="f-parent">Parent run</label>
          <input id="f-parent" name="parent" type="text" value={values.parent ?? ""} placeholder="run_…" />
        </div>
        <div>
          <label for="f-error">Error code</label>
          <input id="f-error" name="error" type="text" value={values.error ?? ""} placeholder="node.http_status" />
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Filter
          </button>
          <a href="/ui/runs">Clear filters</a>
        </div>
      </form>
    </search>
  );
}
