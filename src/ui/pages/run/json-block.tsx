/** JSON for people: pretty-printed, cut at a size that keeps the page light. */
const limit = 20_000;

export function JsonBlock(props: { value: unknown; label?: string }) {
  const text = JSON.stringify(props.value ?? null, null, 2) ?? "null";
  const cut = text.length > limit;
  return (
    <section aria-label={props.label}>
      {/* Focusable: a long value scrolls, and keyboard users must be able to scroll it. */}
      <pre tabindex={0}>{cut ? `${text.slice(0, limit)}\n…` : text}</pre>
      {cut ? <p class="note">Cut at {limit.toLocaleString("en")} characters; the API has all of it.</p> : null}
    </section>
  );
}
