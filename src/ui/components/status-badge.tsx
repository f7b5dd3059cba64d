/** A status as a coloured pill; the text is the status itself, so colour is never the only cue. */
export function StatusBadge(props: { status: string }) {
  return (
    <span class={`badge s-${props.status}`} data-status={props.status}>
      {props.status.replaceAll("_", " ")}
    </span>
  );
}
