import { Layout } from "./layout";

/** Every outcome that is not the decision form: recorded, used, expired, unknown, closed. */
export function MessagePage(props: { title: string; message: string; detail?: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p role="status">{props.message}</p>
      {props.detail ? <p class="note">{props.detail}</p> : null}
    </Layout>
  );
}
