import type { ReviewInfo } from "../../../run/reviews";
import type { OpenReview } from "../../../store/approval-inbox";
import { Time } from "../../format";
import { Shell } from "../../shell";

export interface InboxEntry {
  review: OpenReview;
  info: ReviewInfo;
}

function Entry(props: { entry: InboxEntry }) {
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
      <p class="note">Decisions: {info.request.decisions.join(", ")}.</p>
    </article>
  );
}

/** Every open review across runs, oldest first: what it asks, of whom, until when. */
export function ApprovalsPage(props: { entries: InboxEntry[]; csrf: string }) {
  return (
    <Shell title="Approvals" section="approvals" csrf={props.csrf}>
      <h1>Approvals</h1>
      <p class="note">
        Open requests for a person's decision (human steps, low-confidence LLM answers, escalations), oldest first. Each
        approver decides from the link in their email; deciding from here comes with personal sign-in.
      </p>
      {props.entries.length === 0 ? (
        <div class="card empty">
          <p>Nothing waits for a person's decision.</p>
        </div>
      ) : (
        props.entries.map((entry) => <Entry entry={entry} />)
      )}
    </Shell>
  );
}
