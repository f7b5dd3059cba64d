import type { TestCasesResult } from "../../../routes/workflow-test";
import type { DryRunReport } from "../../../run/dry-run";
import { ScrollTable } from "../../components/scroll-table";
import { StatusBadge } from "../../components/status-badge";
import { JsonBlock } from "../run/json-block";

export type Trial =
  | { kind: "dry-run"; report: DryRunReport }
  | { kind: "tests"; result: TestCasesResult }
  | { kind: "error"; message: string };

function DryRunResult(props: { report: DryRunReport }) {
  const { report } = props;
  return (
    <div data-dry-run={report.status}>
      <p>
        Dry run: <StatusBadge status={report.status} /> — nothing was sent or recorded.
      </p>
      <ScrollTable label="Dry run steps">
        <table>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {report.steps.map((step) => (
              <tr data-step={step.nodeId} data-status={step.status}>
                <td>
                  <code>{step.nodeId}</code>
                </td>
                <td>
                  <StatusBadge status={step.status} />
                </td>
                <td>{step.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollTable>
      {report.error ? <JsonBlock value={report.error} label="Dry run error" /> : null}
      <JsonBlock value={report.context} label="Dry run context" />
    </div>
  );
}

function TestResults(props: { result: TestCasesResult }) {
  const { result } = props;
  return (
    <div>
      <p>
        Test cases of v{result.version}: {result.passed} passed, {result.failed} failed.
      </p>
      <ScrollTable label="Test case results">
        <table>
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Result</th>
              <th scope="col">Failures</th>
            </tr>
          </thead>
          <tbody>
            {result.results.map((test) => (
              <tr data-test={test.name} data-passed={String(test.passed)}>
                <td>{test.name}</td>
                <td>
                  <StatusBadge status={test.passed ? "success" : "failed"} />
                </td>
                <td>
                  {test.failures.map((failure) => (
                    <div>
                      <code>{failure.check}</code> {failure.message}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollTable>
    </div>
  );
}

/** Dry runs with mocks and the definition's test cases: nothing is sent anywhere, nothing is recorded. */
export function TrialSection(props: {
  workflowId: string;
  request: string;
  tests: number;
  trial?: Trial;
  csrf: string;
}) {
  const action = `/ui/workflows/${encodeURIComponent(props.workflowId)}/test#try`;
  return (
    <section class="card" id="try" aria-labelledby="try-title">
      <h2 id="try-title">Try it without side effects</h2>
      <form method="post" action={action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="trial">
          Dry run request (JSON: input, mocks, http, llm, as POST /api/workflows/:id/test takes)
        </label>
        <textarea id="trial" name="request" spellcheck={false}>
          {props.request}
        </textarea>
        <div class="actions">
          <button type="submit" name="mode" value="dry-run">
            Dry run
          </button>
          {props.tests > 0 ? (
            <button type="submit" name="mode" value="tests">
              Run the {props.tests} test cases
            </button>
          ) : (
            <span class="note">This definition has no test cases.</span>
          )}
        </div>
      </form>
      {props.trial?.kind === "error" ? (
        <p class="error" role="alert">
          {props.trial.message}
        </p>
      ) : null}
      {props.trial?.kind === "dry-run" ? <DryRunResult report={props.trial.report} /> : null}
      {props.trial?.kind === "tests" ? <TestResults result={props.trial.result} /> : null}
    </section>
  );
}
