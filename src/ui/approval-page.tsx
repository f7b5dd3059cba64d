import { raw } from "hono/html";
import type { ReviewDecision } from "../engine/outcome";
import type { JsonObject } from "../lib/json";
import type { ReviewInfo } from "../run/reviews";
import { Layout } from "./layout";

export const decisionLabels: Record<ReviewDecision, { text: string; style: string }> = {
  approve: { text: "Approve", style: "primary" },
  reject: { text: "Reject", style: "danger" },
  retry: { text: "Retry the step", style: "primary" },
  skip: { text: "Skip with this output", style: "" },
  fail: { text: "Fail the run", style: "danger" },
};

export interface FieldSchema {
  type?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
}

/** One field of a request's edit schema; `idPrefix` keeps ids unique when several forms share a page. */
export function EditField(props: { name: string; schema: FieldSchema; value: unknown; idPrefix?: string }) {
  const { name, schema, value } = props;
  const id = `${props.idPrefix ?? ""}edit-${name}`;
  const label = schema.title ?? name;
  const help = schema.description ? <span class="note"> — {schema.description}</span> : null;
  const caption = (
    <label for={id}>
      {label}
      {help}
    </label>
  );
  if (schema.enum) {
    return (
      <div>
        {caption}
        <select id={id} name={`edit.${name}`}>
          {schema.enum.map((option) => (
            <option value={String(option)} selected={option === value}>
              {String(option)}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (schema.type === "boolean") {
    return (
      <div>
        <label for={id}>
          <input type="checkbox" id={id} name={`edit.${name}`} value="true" checked={value === true} /> {label}
          {help}
        </label>
      </div>
    );
  }
  if (schema.type === "number" || schema.type === "integer") {
    return (
      <div>
        {caption}
        <input
          type="number"
          id={id}
          name={`edit.${name}`}
          step={schema.type === "integer" ? "1" : "any"}
          value={typeof value === "number" ? String(value) : ""}
        />
      </div>
    );
  }
  if (schema.type === "string") {
    return (
      <div>
        {caption}
        <input type="text" id={id} name={`edit.${name}`} value={typeof value === "string" ? value : ""} />
      </div>
    );
  }
  return (
    <div>
      <label for={id}>
        {label} (JSON){help}
      </label>
      <textarea id={id} name={`edit.${name}`}>
        {value === undefined ? "" : JSON.stringify(value, null, 2)}
      </textarea>
    </div>
  );
}

export interface ApprovalFormValues {
  comment?: string;
  edits?: JsonObject;
  output?: string;
}

/**
 * The decision form. Rendering it changes nothing; only submitting it does, with the form
 * token it carries.
 */
export function ApprovalPage(props: {
  info: ReviewInfo;
  approver: string;
  action: string;
  csrf: string;
  error?: string;
  values?: ApprovalFormValues;
}) {
  const { info, approver, values } = props;
  const { request } = info;
  const escalation = info.kind === "escalation";
  const properties = (request.edit?.schema.properties ?? {}) as Record<string, FieldSchema>;
  const editValues = { ...(request.edit?.values ?? {}), ...(values?.edits ?? {}) };
  const expires = new Date(info.expiresAt).toUTCString();
  return (
    <Layout title={request.subject}>
      <h1>{request.subject}</h1>
      <p class="note">
        For {approver} · workflow {info.workflowId} · run {info.runId} · step {info.nodeId} · expires {expires}
      </p>
      {request.html ? <div class="body html">{raw(request.html)}</div> : <div class="body">{request.text}</div>}
      {request.summary.length > 0 ? (
        <table>
          <caption class="note">Details</caption>
          <tbody>
            {request.summary.map((entry) => (
              <tr>
                <th scope="row">{entry.label}</th>
                <td>{entry.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {info.require === "all" && info.decisions.length > 0 ? (
        <p class="note">
          Already decided: {info.decisions.map((entry) => `${entry.approver} (${entry.decision})`).join(", ")}. Every
          approver must approve.
        </p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        {Object.keys(properties).length > 0 ? (
          <fieldset>
            <legend>Edit before approving</legend>
            {Object.entries(properties).map(([name, schema]) => (
              <EditField name={name} schema={schema} value={editValues[name]} />
            ))}
          </fieldset>
        ) : null}
        {escalation && request.decisions.includes("skip") ? (
          <div>
            <label for="output">
              Output to write if you skip (a JSON object
              {info.writes.length > 0 ? ` with keys from: ${info.writes.join(", ")}` : " ; this step writes no keys"}
              {info.proposed ? "; it starts as the proposed output" : ""})
            </label>
            <textarea id="output" name="output">
              {values?.output ?? (info.proposed ? JSON.stringify(info.proposed, null, 2) : "{}")}
            </textarea>
          </div>
        ) : null}
        <label for="comment">Comment (optional)</label>
        <textarea id="comment" name="comment" maxlength={2000}>
          {values?.comment ?? ""}
        </textarea>
        <div class="actions">
          {request.decisions.map((decision) => (
            <button type="submit" name="decision" value={decision} class={decisionLabels[decision].style}>
              {decisionLabels[decision].text}
            </button>
          ))}
        </div>
      </form>
      <p class="note">This link is yours alone and works once.</p>
    </Layout>
  );
}
