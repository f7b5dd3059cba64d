import type { TriggerDefinition } from "../../../definition/schema";
import { Time } from "../../format";
import { Shell } from "../../shell";

export interface WorkflowSummary {
  id: string;
  name: string;
  latestVersion: number;
  enabled: boolean;
  updatedAt: number;
  triggers: TriggerDefinition["type"][];
  nextTick: number | null;
}

export function EnabledBadge(props: { enabled: boolean }) {
  return (
    <span class={`badge ${props.enabled ? "s-success" : "s-cancelled"}`} data-enabled={String(props.enabled)}>
      {props.enabled ? "enabled" : "disabled"}
    </span>
  );
}

/** Every live workflow, with its latest version, state, triggers and next schedule tick. */
export function WorkflowsPage(props: { workflows: WorkflowSummary[]; csrf: string }) {
  return (
    <Shell title="Workflows" section="workflows" csrf={props.csrf}>
      <h1>Workflows</h1>
      {props.workflows.length === 0 ? (
        <div class="card empty">
          <h2>No workflows yet</h2>
          <p>
            Register one with <code>POST /api/workflows</code> and its definition (see docs/definitions.md);{" "}
            <code>npm run dev</code> registers the examples in <code>workflows/</code>.
          </p>
        </div>
      ) : (
        <div class="table-wrap">
          <table id="workflows">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col" class="hide-narrow">
                  Triggers
                </th>
                <th scope="col" class="hide-narrow">
                  Next tick
                </th>
                <th scope="col" class="hide-narrow">
                  Updated
                </th>
              </tr>
            </thead>
            <tbody>
              {props.workflows.map((workflow) => (
                <tr data-workflow-id={workflow.id}>
                  <td>
                    <a href={`/ui/workflows/${encodeURIComponent(workflow.id)}`}>{workflow.id}</a>
                    <div class="note">{workflow.name}</div>
                  </td>
                  <td>
                    <EnabledBadge enabled={workflow.enabled} />
                  </td>
                  <td>v{workflow.latestVersion}</td>
                  <td class="hide-narrow">{workflow.triggers.join(", ")}</td>
                  <td class="hide-narrow">{workflow.nextTick === null ? "—" : <Time ms={workflow.nextTick} />}</td>
                  <td class="hide-narrow">
                    <Time ms={workflow.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Shell>
  );
}
