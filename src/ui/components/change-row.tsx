import type { JsonChange } from "../../lib/json-diff";

/** One change of a JSON diff as a table row: what happened, where, before and after. */
export function ChangeRow(props: { change: JsonChange }) {
  const { change } = props;
  return (
    <tr class={change.op} data-op={change.op}>
      <td>{change.op}</td>
      <td>
        <code>{change.path}</code>
      </td>
      <td>{"old" in change ? <pre>{JSON.stringify(change.old, null, 2)}</pre> : null}</td>
      <td>{"value" in change ? <pre>{JSON.stringify(change.value, null, 2)}</pre> : null}</td>
    </tr>
  );
}
