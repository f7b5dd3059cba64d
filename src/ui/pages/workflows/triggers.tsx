import type { TriggerDefinition } from "../../../definition/schema";
import { Time } from "../../format";

/** How each trigger starts a run, with the URL to call where there is one. */
export function TriggerList(props: {
  workflowId: string;
  triggers: TriggerDefinition[];
  origin: string;
  nextTick: number | null;
}) {
  const id = encodeURIComponent(props.workflowId);
  return (
    <ul data-triggers>
      {props.triggers.map((trigger) => (
        <li data-trigger={trigger.type}>
          <strong>{trigger.type}</strong>{" "}
          {trigger.type === "webhook" ? (
            <code>POST {`${props.origin}/hooks/${id}`}</code>
          ) : trigger.type === "manual" ? (
            <code>POST {`${props.origin}/api/workflows/${id}/runs`}</code>
          ) : trigger.type === "schedule" ? (
            <span>
              <code>{trigger.cron}</code> {trigger.timezone ?? "UTC"} · next tick <Time ms={props.nextTick} />
            </span>
          ) : trigger.type === "event" ? (
            <span>
              event <code>{trigger.name}</code> (<code>POST {`${props.origin}/api/events`}</code>)
            </span>
          ) : trigger.type === "email" ? (
            <span>
              mail to <code>{trigger.address}</code>
              {trigger.allowFrom ? (
                <span>
                  {" "}
                  from <code>{trigger.allowFrom.join(", ")}</code>
                </span>
              ) : null}
            </span>
          ) : (
            <span>
              uploads to <code>{trigger.bucket ?? "the files bucket"}</code>
              {trigger.prefix ? (
                <span>
                  {" "}
                  under <code>{trigger.prefix}</code>
                </span>
              ) : null}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
