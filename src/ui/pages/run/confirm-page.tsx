import { Shell } from "../../shell";
import { actionText, type RunAction } from "./run-actions";

/** The one place an action is sent from: a POST form with the session's form token. */
export function ConfirmPage(props: { runId: string; action: RunAction; status: string; csrf: string }) {
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
