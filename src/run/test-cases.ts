import type { TestCase } from "../definition/schema";
import type { Plan } from "../engine/plan";
import { toErrorData } from "../errors";
import { evaluate, truthy } from "../expr/jsonata";
import type { Json } from "../lib/json";
import { type DryRunInput, type DryRunReport, dryRun } from "./dry-run";
import { parseMocks } from "./dry-run-mocks";

/** What the server tells every dry run: llm attempts' context, its public URL, limits, stored workflows. */
export type DryRunShell = Pick<DryRunInput, "llmContext" | "publicUrl" | "limits" | "loadWorkflow">;

export interface TestResult {
  name: string;
  passed: boolean;
  failures: { check: string; message: string; expected?: unknown; actual?: unknown }[];
  report: DryRunReport | null;
}

/** `expected` inside `actual`: objects as subsets, arrays element by element, the rest equal. */
export function matches(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => matches(item, actual[index]))
    );
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) => matches(value, (actual as Record<string, unknown>)[key]));
  }
  return Object.is(expected, actual);
}

/** Runs one test case as a dry run and checks what it expects. */
export async function runTestCase(
  plan: Plan,
  configs: Readonly<Record<string, unknown>>,
  test: TestCase,
  shell: DryRunShell = {},
): Promise<TestResult> {
  const failures: TestResult["failures"] = [];
  const mocks = parseMocks(
    plan,
    test.mocks as Json | undefined,
    test.http as Json | undefined,
    test.llm as Json | undefined,
  );
  if (!mocks.ok) {
    return {
      name: test.name,
      passed: false,
      failures: [{ check: "mocks", message: mocks.error.message }],
      report: null,
    };
  }
  const report = await dryRun({
    plan,
    configs,
    input: (test.input ?? {}) as Json,
    mocks: mocks.mocks,
    ...shell,
  });
  const expect = test.expect ?? {};
  if (expect.status !== undefined && report.status !== expect.status) {
    failures.push({
      check: "status",
      message: "the run ended differently",
      expected: expect.status,
      actual: report.status,
    });
  }
  for (const [key, value] of Object.entries(expect.context ?? {})) {
    if (!matches(value, report.context[key])) {
      failures.push({
        check: `context.${key}`,
        message: `context.${key} does not match`,
        expected: value,
        actual: report.context[key] ?? null,
      });
    }
  }
  for (const [nodeId, status] of Object.entries(expect.steps ?? {})) {
    const actual = report.steps.find((step) => step.nodeId === nodeId)?.status ?? null;
    if (actual !== status) {
      failures.push({ check: `steps.${nodeId}`, message: `step ${nodeId} ended ${actual}`, expected: status, actual });
    }
  }
  for (const expression of expect.assert ?? []) {
    try {
      const value = await evaluate(expression, report.context);
      if (!truthy(value)) failures.push({ check: "assert", message: `not true: ${expression}`, actual: value ?? null });
    } catch (thrown) {
      failures.push({ check: "assert", message: `${expression} failed: ${toErrorData(thrown).message}` });
    }
  }
  return { name: test.name, passed: failures.length === 0, failures, report };
}
