import { Layout } from "./layout";

/**
 * Every outcome that is not the decision form: recorded, used, expired, unknown, closed. A
 * problem carries its error code, as the JSON answer would, for scripts that post the form.
 */
export function MessagePage(props: { title: string; message: string; detail?: string; code?: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p role="status" data-error-code={props.code}>
        {props.message}
      </p>
      {props.detail ? <p class="note">{props.detail}</p> : null}
    </Layout>
  );
}
