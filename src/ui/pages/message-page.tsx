import type { Child } from "hono/jsx";
import { BareShell, type Section, Shell } from "../shell";

/** An outcome that is not a page of data: not found, refused, or not built yet. */
export function MessagePage(props: {
  title: string;
  message: string;
  csrf?: string | undefined;
  section?: Section | undefined;
  children?: Child;
}) {
  const body = (
    <div class="card">
      <h1>{props.title}</h1>
      <p role="status">{props.message}</p>
      {props.children}
    </div>
  );
  if (props.csrf === undefined) return <BareShell title={props.title}>{body}</BareShell>;
  return (
    <Shell title={props.title} section={props.section} csrf={props.csrf}>
      {body}
    </Shell>
  );
}
