import { isActiveStatus } from "../../../routes/ui/run-filters";

export const runActions = ["cancel", "pause", "resume", "retry", "replay", "event", "delete"] as const;
export type RunAction = (typeof runActions)[number];

export function isRunAction(value: string): value is RunAction {
  return (runActions as readonly string[]).includes(value);
}

/** What each action does, said on its confirmation page before anything is sent. */
export const actionText: Record<RunAction, { label: string; explain: string; danger: boolean }> = {
  cancel: {
    label: "Cancel run",
    explain: "The run stops: attempts in flight finish, nothing new starts, and the run ends as cancelled.",
    danger: true,
  },
  pause: {
    label: "Pause run",
    explain: "Nothing new starts and timers are held until the run is resumed. Attempts in flight finish.",
    danger: false,
  },
  resume: {
    label: "Resume run",
    explain: "Held timers fire, earliest first, and every step that is ready starts.",
    danger: false,
  },
  retry: {
    label: "Retry run",
    explain: "The failed steps start again with a fresh retry budget; steps that succeeded are kept and not run again.",
    danger: false,
  },
  replay: {
    label: "Replay from a step",
    explain:
      "A new run starts from the chosen step, with what the steps before it wrote and the context edits below. This run stays as it is.",
    danger: false,
  },
  event: {
    label: "Deliver an event",
    explain:
      "A step waiting for this event takes it at once; otherwise the run keeps it until a step waits for it. Delivering the same id twice changes nothing.",
    danger: false,
  },
  delete: {
    label: "Delete run",
    explain: "The run, its child runs, its stored values and its history are deleted for good.",
    danger: true,
  },
};

/** The actions that apply to a run in this status, as the API would accept them. */
export function actionsFor(status: string): RunAction[] {
  if (status === "paused") return ["resume", "event", "cancel"];
  // A queued run waits for its flow-control gate: nothing to pause; an event waits in its buffer.
  if (status === "queued") return ["event", "cancel"];
  if (isActiveStatus(status)) return ["pause", "event", "cancel"];
  if (status === "failed") return ["retry", "replay", "delete"];
  return ["replay", "delete"];
}

/** Links to confirmation pages: a GET never changes anything, the confirmation's POST does. */
export function RunActions(props: { runId: string; status: string }) {
  return (
    <div class="actions">
      {actionsFor(props.status).map((action) => (
        <a
          class={`button${actionText[action].danger ? " danger" : ""}`}
          href={`/ui/runs/${props.runId}/confirm/${action}`}
          data-action={action}
        >
          {actionText[action].label}
        </a>
      ))}
    </div>
  );
}
