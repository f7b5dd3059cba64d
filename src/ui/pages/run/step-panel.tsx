import type { StepReport } from "../../../run/report";
import { ScrollTable } from "../../components/scroll-table";
import { StatusBadge } from "../../components/status-badge";
import { formatDuration, Time } from "../../format";
import { JsonBlock } from "./json-block";

function Attempts(props: { step: StepReport }) {
  return (
    <ScrollTable label="Attempts">
      <table>
        <caption>Attempts</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
            <th scope="col">Outcome</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {props.step.history.map((attempt) => (
            <tr data-attempt={attempt.attempt}>
              <td>{attempt.attempt}</td>
              <td>
                <Time ms={attempt.startedAt} />
              </td>
              <td>{formatDuration(attempt.durationMs)}</td>
              <td>{attempt.outcome ?? "running"}</td>
              <td>
                {attempt.errorCode ? (
                  <span>
                    <code>{attempt.errorCode}</code> {attempt.errorMessage}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollTable>
  );
}

function LlmCalls(props: { llm: NonNullable<StepReport["llm"]> }) {
  const { usage, calls } = props.llm;
  return (
    <div>
      <h3>LLM calls</h3>
      <p class="note">
        {usage.calls} calls · {usage.inputTokens} tokens in · {usage.outputTokens} out · ${usage.costUsd.toFixed(4)}
        {usage.unpricedCalls > 0 ? ` (${usage.unpricedCalls} unpriced)` : ""}
      </p>
      <ScrollTable label="LLM calls">
        <table>
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">Model</th>
              <th scope="col">Tokens in / out</th>
              <th scope="col">Cost</th>
              <th scope="col">Latency</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((call) => (
              <tr data-llm-call={`${call.attempt}.${call.call}`}>
                <td>
                  {call.attempt}.{call.call} {call.purpose === "repair" ? "(repair)" : ""}
                </td>
                <td>
                  <code>
                    {call.provider}/{call.model}
                  </code>
                  {call.cached ? " (cached)" : ""}
                </td>
                <td>
                  {call.usage.inputTokens} / {call.usage.outputTokens}
                </td>
                <td>{call.costUsd === null ? "unpriced" : `$${call.costUsd.toFixed(4)}`}</td>
                <td>{formatDuration(call.latencyMs)}</td>
                <td>
                  {call.outcome}
                  {call.error ? <div class="note">{call.error.message}</div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollTable>
    </div>
  );
}

function Review(props: { review: NonNullable<StepReport["review"]> }) {
  const { review } = props;
  return (
    <div>
      <h3>Approval ({review.kind})</h3>
      <p class="note">
        Round {review.round} · asked {review.approvers.join(", ")} · {review.require} must decide · expires{" "}
        <Time ms={review.expiresAt} />
        {review.outcome ? ` · outcome: ${review.outcome}` : ""}
      </p>
      {review.decisions.length === 0 ? (
        <p>No decision yet.</p>
      ) : (
        <ScrollTable label="Decisions">
          <table>
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Decision</th>
                <th scope="col">When</th>
                <th scope="col">Comment</th>
              </tr>
            </thead>
            <tbody>
              {review.decisions.map((decision) => (
                <tr>
                  <td>{decision.approver}</td>
                  <td>{decision.decision}</td>
                  <td>
                    <Time ms={decision.at} />
                  </td>
                  <td>{decision.comment ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      {review.undelivered.length > 0 ? <p class="error">Not delivered to: {review.undelivered.join(", ")}</p> : null}
    </div>
  );
}

function Children(props: { runId: string; children: NonNullable<StepReport["children"]> }) {
  const { children } = props;
  return (
    <div>
      <h3>Child runs ({children.mode})</h3>
      <p>
        {children.succeeded} succeeded, {children.failed} failed, {children.started} started of {children.total} · phase{" "}
        {children.phase}
      </p>
      <p>
        <a href={`/ui/runs?parent=${encodeURIComponent(props.runId)}`}>All child runs of this run</a>
      </p>
      {children.running.length > 0 ? (
        <ul>
          {children.running.map((id) => (
            <li>
              <a class="mono" href={`/ui/runs/${id}`}>
                {id}
              </a>{" "}
              (running)
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Everything about one step; chosen with ?step=, so it needs no script. */
export function StepPanel(props: { runId: string; step: StepReport; versionHref: (version: number) => string }) {
  const { step } = props;
  return (
    <section class="card step-panel" id="step" aria-labelledby="step-title" data-step-panel={step.nodeId}>
      <h2 id="step-title">
        Step <code>{step.nodeId}</code> <StatusBadge status={step.status} />
      </h2>
      <dl class="facts">
        <dt>Type</dt>
        <dd>{step.type}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        <dt>Started</dt>
        <dd>
          <Time ms={step.startedAt} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <Time ms={step.endedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>{formatDuration(step.durationMs)}</dd>
        <dt>Read context</dt>
        <dd>
          {step.inputVersion === null ? "—" : <a href={props.versionHref(step.inputVersion)}>v{step.inputVersion}</a>}
        </dd>
        <dt>Wrote context</dt>
        <dd>
          {step.contextVersion === null ? (
            "—"
          ) : (
            <a href={props.versionHref(step.contextVersion)}>v{step.contextVersion}</a>
          )}
        </dd>
        {step.awaiting ? (
          <>
            <dt>Waiting for</dt>
            <dd>
              event <code>{step.awaiting.event}</code> until <Time ms={step.awaiting.until} />
            </dd>
          </>
        ) : null}
        {step.replayedFrom ? (
          <>
            <dt>Taken from</dt>
            <dd>
              <a href={`/ui/runs/${step.replayedFrom.runId}`}>{step.replayedFrom.runId}</a>
            </dd>
          </>
        ) : null}
      </dl>
      {step.error ? (
        <div>
          <h3>Error</h3>
          <JsonBlock value={step.error} label="Step error" />
        </div>
      ) : null}
      {step.history.length > 0 ? <Attempts step={step} /> : <p class="note">Not started yet.</p>}
      {step.llm ? <LlmCalls llm={step.llm} /> : null}
      {step.review ? <Review review={step.review} /> : null}
      {step.children ? <Children runId={props.runId} children={step.children} /> : null}
      {step.output ? (
        <div>
          <h3>Output</h3>
          <JsonBlock value={step.output} label="Step output" />
        </div>
      ) : null}
    </section>
  );
}
