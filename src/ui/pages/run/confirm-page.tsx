import { Shell } from "../../shell";
import { actionText, type RunAction } from "./run-actions";

export interface ReplayForm {
  /** Steps a replay can start from: those that were not skipped. */
  nodes: string[];
  fromNode?: string;
  context?: string;
  error?: string;
}

function ReplayFields(props: { replay: ReplayForm }) {
  const { replay } = props;
  return (
    <>
      <p>
        <label for="fromNode">Start from step</label>
        <select id="fromNode" name="fromNode" required>
          {replay.nodes.map((node) => (
            <option value={node} selected={node === replay.fromNode}>
              {node}
            </option>
          ))}
        </select>
      </p>
      <p>
        <label for="context">Context edits (a JSON object of top-level keys to replace)</label>
        <textarea
          id="context"
          name="context"
          spellcheck={false}
          aria-describedby={replay.error ? "context-error" : "context-help"}
          aria-invalid={replay.error ? "true" : undefined}
        >
          {replay.context ?? "{}"}
        </textarea>
      </p>
      {replay.error ? (
        <p id="context-error" class="error" role="alert">
          {replay.error}
        </p>
      ) : (
        <p id="context-help" class="note">
          For example <code>{'{"input": {"amount": 20}}'}</code>. <code>run</code> and <code>trigger</code> belong to
          the run and cannot be edited.
        </p>
      )}
    </>
  );
}

export interface EventForm {
  name?: string;
  payload?: string;
  id?: string;
  error?: string;
}

function EventFields(props: { event: EventForm }) {
  const { event } = props;
  return (
    <>
      <p>
        <label for="event-name">Event name</label>
        <input id="event-name" name="name" type="text" required maxlength={100} value={event.name ?? ""} />
      </p>
      <p>
        <label for="event-payload">Payload (JSON)</label>
        <textarea
          id="event-payload"
          name="payload"
          spellcheck={false}
          aria-describedby={event.error ? "event-error" : undefined}
          aria-invalid={event.error ? "true" : undefined}
        >
          {event.payload ?? "{}"}
        </textarea>
      </p>
      <p>
        <label for="event-id">Event id (optional, makes a redelivery a no-op)</label>
        <input id="event-id" name="id" type="text" maxlength={200} value={event.id ?? ""} />
      </p>
      {event.error ? (
        <p id="event-error" class="error" role="alert">
          {event.error}
        </p>
      ) : null}
    </>
  );
}

/** The one place an action is sent from: a POST form with the session's form token. */
export function ConfirmPage(props: {
  runId: string;
  action: RunAction;
  status: string;
  csrf: string;
  replay?: ReplayForm;
  event?: EventForm;
}) {
  const text = actionText[props.action];
  return (
    <Shell title={text.label} section="runs" csrf={props.csrf}>
      <div class="card confirm">
        <h1>{text.label}?</h1>
        <p>
          Run <code>{props.runId}</code> is <strong>{props.status.replaceAll("_", " ")}</strong>.
        </p>
        <p>{text.explain}</p>
        <form method="post" action={`/ui/runs/${props.runId}/actions/${props.action}`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          {props.action === "retry" ? (
            <p>
              <label>
                <input type="checkbox" name="latest" value="true" /> Move the run onto the workflow's latest version
                first
              </label>
            </p>
          ) : null}
          {props.action === "replay" && props.replay ? <ReplayFields replay={props.replay} /> : null}
          {props.action === "event" ? <EventFields event={props.event ?? {}} /> : null}
          {props.action === "pause" ? (
            <p>
              <label for="reason">Reason (optional)</label>
              <input id="reason" name="reason" type="text" maxlength={500} />
            </p>
          ) : null}
          <div class="actions">
            <button type="submit" class={text.danger ? "danger" : "primary"}>
              {text.label}
            </button>
            <a href={`/ui/runs/${props.runId}`}>Keep it as it is</a>
          </div>
        </form>
      </div>
    </Shell>
  );
}
