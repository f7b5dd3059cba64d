import type { Permission } from "../../../auth/roles";
import { isActiveStatus } from "../../../routes/ui/run-filters";
import type { Can } from "../../can";

export const runActions = [
  "cancel",
  "pause",
  "resume",
  "retry",
  "replay",
  "event",
  "hold",
  "release",
  "delete",
] as const;
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
  hold: {
    label: "Keep run",
    explain: "A hold keeps the run, whatever its retention says, until the hold is lifted.",
    danger: false,
  },
  release: {
    label: "Lift hold",
    explain: "Retention deletes the run at its time again; if that time has passed, within a minute.",
    danger: true,
  },
  delete: {
    label: "Delete run",
    explain: "The run, its child runs, its stored values and its history are deleted for good.",
    danger: true,
  },
};

/**
 * The actions that apply to a run in this status, as the API would accept them. `held` is
 * whether a hold keeps it (undefined while D1 does not know the run: no hold can be put yet).
 */
export function actionsFor(status: string, held?: boolean): RunAction[] {
  if (status === "paused") return ["resume", "event", "cancel"];
  // A queued run waits for its flow-control gate: nothing to pause; an event waits in its buffer.
  if (status === "queued") return ["event", "cancel"];
  if (isActiveStatus(status)) return ["pause", "event", "cancel"];
  const keep: RunAction[] = held === undefined ? [] : held ? ["release"] : ["hold"];
  if (status === "failed") return ["retry", "replay", ...keep, "delete"];
  return ["replay", ...keep, "delete"];
}

/** What an action needs, as the API's route for it does: deleting is `runs.delete`, the rest `runs.act`. */
export function actionPermission(action: RunAction): Permission {
  return action === "delete" ? "runs.delete" : "runs.act";
}

/**
 * Links to confirmation pages: a GET never changes anything, the confirmation's POST does.
 * Only the actions the signed-in role may take are offered.
 */
export function RunActions(props: { runId: string; status: string; can: Can; held?: boolean }) {
  const offered = actionsFor(props.status, props.held).filter((action) => props.can(actionPermission(action)));
  if (offered.length === 0) return null;
  return (
    <div class="actions">
      {offered.map((action) => (
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
