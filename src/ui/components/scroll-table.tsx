import type { Child } from "hono/jsx";

/**
 * A table's sideways-scrolling box, focusable and named: on a phone it scrolls, and a table
 * with no link or field in it would otherwise be out of the keyboard's reach (axe:
 * scrollable-region-focusable).
 */
export function ScrollTable(props: { label: string; class?: string; children: Child }) {
  return (
    <section class={props.class ? `table-wrap ${props.class}` : "table-wrap"} tabindex={0} aria-label={props.label}>
      {props.children}
    </section>
  );
}
