import type { DeadLetter } from "../../../store/operations";
import type { Can } from "../../can";
import { Time } from "../../format";
import { Shell } from "../../shell";

function errorText(error: unknown): string {
  if (error && typeof error === "object" && "code" in error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return `${String(code)}${typeof message === "string" ? `: ${message}` : ""}`;
  }
  return error === null || error === undefined ? "" : JSON.stringify(error);
}

function Row(props: { letter: DeadLetter; csrf: string; back: string; canRequeue: boolean }) {
  const { letter } = props;
  return (
    <tr data-run-id={letter.runId}>
      <td>
        <a class="mono" href={`/ui/runs/${letter.runId}`}>
          {letter.runId}
        </a>
        <div class="note">
          {letter.workflowId} v{letter.version}
        </div>
      </td>
      <td class="hide-narrow">
        <Time ms={letter.failedAt} />
      </td>
      <td>
        {letter.nodes.length === 0 ? (
          <span class="note">{errorText(letter.error)}</span>
        ) : (
          letter.nodes.map((node) => (
            <div>
              <code>{node.nodeId}</code> ({node.type}, {node.attempts} attempts)
              <div class="note">{errorText(node.error)}</div>
            </div>
          ))
        )}
      </td>
      {props.canRequeue ? (
        <td>
          <form method="post" action={`/ui/dead-letters/${letter.runId}/requeue`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="back" value={props.back} />
            <label class="note">
              <input type="checkbox" name="latest" value="true" /> on the latest version
            </label>
            <button type="submit">Requeue</button>
          </form>
        </td>
      ) : null}
    </tr>
  );
}

/** Failed runs nobody has retried yet, newest first, each with its failed steps and a requeue. */
export function DeadLettersPage(props: {
  letters: DeadLetter[];
  count: number;
  workflow?: string;
  workflows: string[];
  nextHref?: string;
  notice?: { ok: boolean; text: string };
  problems: string[];
  back: string;
  csrf: string;
  can: Can;
}) {
  const canRequeue = props.can("runs.act");
  return (
    <Shell title="Dead letters" section="dead-letters" csrf={props.csrf}>
      <h1>Dead letters</h1>
      {props.notice ? (
        <p class={`flash ${props.notice.ok ? "ok" : "bad"}`} role="status">
          {props.notice.text}
        </p>
      ) : null}
      {props.problems.length > 0 ? (
        <div class="flash bad" role="alert">
          {props.problems.join("; ")}
        </div>
      ) : null}
      <form class="actions" method="get" action="/ui/dead-letters">
        <label for="dl-workflow">Workflow</label>
        <select id="dl-workflow" name="workflow">
          <option value="">All workflows</option>
          {props.workflows.map((id) => (
            <option value={id} selected={id === props.workflow}>
              {id}
            </option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <p class="note">
        A dead letter is a failed run: its failing step used up its attempts and nothing will retry it on its own.
        {canRequeue ? " Requeue retries its failed steps; steps that succeeded are not run again." : ""}
      </p>
      {props.letters.length === 0 ? (
        <div class="card empty">
          <p>No dead letters{props.workflow ? ` for ${props.workflow}` : ""}: no failed run is waiting for anyone.</p>
        </div>
      ) : (
        <div class="table-wrap">
          <table id="dead-letters" class="stack-narrow">
            <caption>{props.count === 1 ? "1 failed run" : `${props.count} failed runs`}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col" class="hide-narrow">
                  Failed
                </th>
                <th scope="col">Failed steps</th>
                {canRequeue ? <th scope="col">Requeue</th> : null}
              </tr>
            </thead>
            <tbody>
              {props.letters.map((letter) => (
                <Row letter={letter} csrf={props.csrf} back={props.back} canRequeue={canRequeue} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.nextHref ? (
        <nav class="pager" aria-label="Pages">
          <span />
          <a href={props.nextHref} rel="next">
            Older
          </a>
        </nav>
      ) : null}
    </Shell>
  );
}
