import type { ReviewInfo } from "../../../run/reviews";
import type { OpenReview } from "../../../store/approval-inbox";
import type { Can } from "../../can";
import { Time } from "../../format";
import { Shell } from "../../shell";
import { type DecisionFailure, DecisionForm, reviewKey } from "./decision-form";

export interface InboxEntry {
  review: OpenReview;
  info: ReviewInfo;
}

function Entry(props: {
  entry: InboxEntry;
  csrf: string;
  prefix: string;
  canDecide: boolean;
  failure?: DecisionFailure | undefined;
}) {
  const { review, info } = props.entry;
  return (
    <article class="card" data-review={`${review.runId}/${review.nodeId}`} data-kind={info.kind}>
      <h2>{info.request.subject}</h2>
      <p class="note">
        {info.kind} · workflow {info.workflowId} · run{" "}
        <a href={`/ui/runs/${review.runId}?step=${encodeURIComponent(review.nodeId)}#step`}>{review.runId}</a> · step{" "}
        <code>{review.nodeId}</code>
      </p>
      {info.error ? (
        <p class="error">
          {info.error.code}: {info.error.message}
        </p>
      ) : null}
      <p>{info.request.text}</p>
      {info.request.summary.length > 0 ? (
        <dl class="facts">
          {info.request.summary.map((item) => (
            <>
              <dt>{item.label}</dt>
              <dd>{item.value}</dd>
            </>
          ))}
        </dl>
      ) : null}
      <p class="note">
        Asked since <Time ms={review.createdAt} /> · expires <Time ms={info.expiresAt} /> · waiting for{" "}
        {review.pending.join(", ")}
        {info.require === "all" ? " (every approver must approve)" : ""}
        {info.decisions.length > 0
          ? ` · decided so far: ${info.decisions.map((entry) => `${entry.approver} (${entry.decision})`).join(", ")}`
          : ""}
      </p>
      {props.canDecide ? (
        <DecisionForm review={review} info={info} csrf={props.csrf} prefix={props.prefix} failure={props.failure} />
      ) : null}
    </article>
  );
}

/** Every open review across runs, oldest first: what it asks, of whom, until when. */
export function ApprovalsPage(props: {
  entries: InboxEntry[];
  csrf: string;
  actor: string;
  can: Can;
  notice?: { ok: boolean; text: string } | undefined;
  failure?: DecisionFailure | undefined;
}) {
  const canDecide = props.can("runs.act");
  return (
    <Shell title="Approvals" section="approvals" csrf={props.csrf}>
      <h1>Approvals</h1>
      {canDecide ? (
        <p class="note">
          Open requests for a person's decision (human steps, low-confidence LLM answers, escalations), oldest first. A
          decision here uses the approver's link, exactly as opening it from the email would: it counts once, and the
          audit trail records that {props.actor} made it from the dashboard.
        </p>
      ) : (
        <p class="note">
          Open requests for a person's decision (human steps, low-confidence LLM answers, escalations), oldest first.
          Signed in as {props.actor}, you can read them; deciding needs a role that may act on runs.
        </p>
      )}
      {props.notice ? (
        <p class={`flash ${props.notice.ok ? "ok" : "bad"}`} role="status">
          {props.notice.text}
        </p>
      ) : null}
      {props.entries.length === 0 ? (
        <div class="card empty">
          <p>Nothing waits for a person's decision.</p>
        </div>
      ) : (
        props.entries.map((entry, index) => (
          <Entry
            entry={entry}
            csrf={props.csrf}
            prefix={`r${index}-`}
            canDecide={canDecide}
            failure={props.failure?.key === reviewKey(entry.review) ? props.failure : undefined}
          />
        ))
      )}
    </Shell>
  );
}
