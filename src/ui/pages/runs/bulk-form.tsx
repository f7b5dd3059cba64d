import type { RunFilters } from "../../../routes/ui/run-filters";

export const bulkFilterNames = ["workflow", "status", "error", "from", "to"] as const;

/** The filter values the bulk API can match on; run id and parent are not among them. */
export function bulkFilterValues(values: RunFilters["values"]) {
  return Object.fromEntries(bulkFilterNames.flatMap((name) => (values[name] ? [[name, values[name]]] : [])));
}

export function HiddenFilters(props: { values: Record<string, string>; runIds?: string[] }) {
  return (
    <>
      {Object.entries(props.values).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      {(props.runIds ?? []).map((runId) => (
        <input type="hidden" name="runId" value={runId} />
      ))}
    </>
  );
}

/**
 * The bulk actions' controls, inside the form that also holds the list's checkboxes: with runs
 * ticked, the action is for those; with none, for every run the filters match. Either way the
 * button only asks for the bulk API's dry run, whose page shows each run and what would happen
 * to it before anything is done. A plain GET form: no JavaScript needed.
 */
export function BulkForm(props: { values: RunFilters["values"] }) {
  const usable = bulkFilterValues(props.values);
  const blocked = props.values.q !== undefined || props.values.parent !== undefined;
  const byFilter = Object.keys(usable).length > 0 && !blocked;
  return (
    <div class="actions">
      {byFilter ? <HiddenFilters values={usable} /> : null}
      <label for="bulk-action">
        {byFilter
          ? "With the ticked runs, or every run these filters match if none is ticked:"
          : "With the ticked runs:"}
      </label>
      <select id="bulk-action" name="action">
        <option value="rerun">rerun (failed runs)</option>
        <option value="cancel">cancel</option>
        <option value="pause">pause</option>
        <option value="resume">resume</option>
      </select>
      <button type="submit">Preview</button>
      {byFilter ? null : (
        <span class="note">
          To act on every run a filter matches, filter by workflow, status, error code or time (not by run id or
          parent).
        </span>
      )}
    </div>
  );
}
