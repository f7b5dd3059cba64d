import type { RunFilters } from "../../../routes/ui/run-filters";

export const bulkFilterNames = ["workflow", "status", "error", "from", "to"] as const;

/** The filter values the bulk API can match on; run id and parent are not among them. */
export function bulkFilterValues(values: RunFilters["values"]) {
  return Object.fromEntries(bulkFilterNames.flatMap((name) => (values[name] ? [[name, values[name]]] : [])));
}

export function HiddenFilters(props: { values: Record<string, string> }) {
  return (
    <>
      {Object.entries(props.values).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
    </>
  );
}

/**
 * Acting on every run the filters match goes through the bulk API: this form only asks for its
 * dry run, whose page shows each run and what would happen to it before anything is done.
 */
export function BulkForm(props: { values: RunFilters["values"] }) {
  const usable = bulkFilterValues(props.values);
  const blocked = props.values.q !== undefined || props.values.parent !== undefined;
  if (Object.keys(usable).length === 0 || blocked) {
    return (
      <p class="note">
        To act on many runs at once, filter by workflow, status, error code or time (not by run id or parent).
      </p>
    );
  }
  return (
    <form class="actions" method="get" action="/ui/runs/bulk">
      <HiddenFilters values={usable} />
      <label for="bulk-action">With every run these filters match:</label>
      <select id="bulk-action" name="action">
        <option value="rerun">rerun (failed runs)</option>
        <option value="cancel">cancel</option>
        <option value="pause">pause</option>
        <option value="resume">resume</option>
      </select>
      <button type="submit">Preview</button>
    </form>
  );
}
