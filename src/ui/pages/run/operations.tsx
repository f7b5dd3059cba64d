import { ScrollTable } from "../../components/scroll-table";
import { Time } from "../../format";

export interface OperationRow {
  runId: string;
  operation: string;
  at: number;
  relatedRunId: string | null;
  bulkId: string | null;
  details: unknown;
}

/** What operators did to the run, newest first, from the audit trail in D1. */
export function Operations(props: { operations: OperationRow[]; runId: string }) {
  return (
    <section class="card" aria-labelledby="ops-title">
      <h2 id="ops-title">Operations</h2>
      {props.operations.length === 0 ? (
        <p class="note">Nobody has paused, resumed, retried, replayed or cancelled this run.</p>
      ) : (
        <ScrollTable label="Operations on this run">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {props.operations.map((entry) => (
                <tr data-operation={entry.operation}>
                  <td>
                    <Time ms={entry.at} />
                  </td>
                  <td>
                    {entry.operation}
                    {entry.bulkId ? <span class="note"> (bulk {entry.bulkId})</span> : null}
                  </td>
                  <td>
                    {entry.relatedRunId && entry.relatedRunId !== props.runId ? (
                      <a href={`/ui/runs/${entry.relatedRunId}`}>{entry.relatedRunId}</a>
                    ) : null}
                    {entry.runId !== props.runId ? <a href={`/ui/runs/${entry.runId}`}>{entry.runId}</a> : null}
                    {entry.details ? <code> {JSON.stringify(entry.details)}</code> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </section>
  );
}
