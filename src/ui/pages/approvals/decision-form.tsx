import type { ReviewInfo } from "../../../run/reviews";
import type { OpenReview } from "../../../store/approval-inbox";
import { type ApprovalFormValues, decisionLabels, EditField, type FieldSchema } from "../../approval-page";

/** What a refused decision brings back to its card: the reason and the fields as typed. */
export interface DecisionFailure {
  key: string;
  message: string;
  values: ApprovalFormValues;
}

export function reviewKey(review: Pick<OpenReview, "runId" | "nodeId" | "attempt" | "round">): string {
  return `${review.runId}/${review.nodeId}/${review.attempt}/${review.round}`;
}

/**
 * The inbox's decision form for one review: the same fields as the email link's page, plus whose
 * link it spends when several approvers are still asked. Ids carry a prefix per card.
 */
export function DecisionForm(props: {
  review: OpenReview;
  info: ReviewInfo;
  csrf: string;
  prefix: string;
  failure?: DecisionFailure | undefined;
}) {
  const { review, info, prefix } = props;
  const { request } = info;
  const values = props.failure?.values;
  const properties = (request.edit?.schema.properties ?? {}) as Record<string, FieldSchema>;
  const editValues = { ...(request.edit?.values ?? {}), ...(values?.edits ?? {}) };
  const pending = review.pending;
  return (
    <form method="post" action="/ui/approvals/decide" data-decide={reviewKey(review)}>
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="runId" value={review.runId} />
      <input type="hidden" name="nodeId" value={review.nodeId} />
      <input type="hidden" name="attempt" value={String(review.attempt)} />
      <input type="hidden" name="round" value={String(review.round)} />
      {props.failure ? (
        <p class="error" role="alert">
          {props.failure.message}
        </p>
      ) : null}
      {pending.length === 1 ? (
        <input type="hidden" name="approver" value={pending[0]} />
      ) : (
        <div>
          <label for={`${prefix}approver`}>Decide as (the approver whose link this uses)</label>
          <select id={`${prefix}approver`} name="approver">
            {pending.map((approver) => (
              <option value={approver}>{approver}</option>
            ))}
          </select>
        </div>
      )}
      {Object.keys(properties).length > 0 ? (
        <fieldset>
          <legend>Edit before approving</legend>
          {Object.entries(properties).map(([name, schema]) => (
            <EditField name={name} schema={schema} value={editValues[name]} idPrefix={prefix} />
          ))}
        </fieldset>
      ) : null}
      {info.kind === "escalation" && request.decisions.includes("skip") ? (
        <div>
          <label for={`${prefix}output`}>
            Output to write if you skip (a JSON object
            {info.writes.length > 0 ? ` with keys from: ${info.writes.join(", ")}` : "; this step writes no keys"})
          </label>
          <textarea id={`${prefix}output`} name="output">
            {values?.output ?? (info.proposed ? JSON.stringify(info.proposed, null, 2) : "{}")}
          </textarea>
        </div>
      ) : null}
      <label for={`${prefix}comment`}>Comment (optional)</label>
      <textarea id={`${prefix}comment`} name="comment" maxlength={2000} class="short">
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
  );
}
