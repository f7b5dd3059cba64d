import { Hono } from "hono";
import { z } from "zod";
import { compilePlan } from "../definition/compile";
import { validateDefinition } from "../definition/validate";
import type { RunState } from "../engine/state";
import type { Env } from "../env";
import { type ErrorData, errorData, fail } from "../errors";
import type { Json } from "../lib/json";
import { publicUrl } from "../lib/public-url";
import { contextLimits } from "../run/context-store";
import { type DryRunReport, dryRun } from "../run/dry-run";
import { parseMocks } from "../run/dry-run-mocks";
import { llmAttemptInput } from "../run/llm-shell";
import { loadPlan } from "../run/plans";
import { type DryRunShell, runTestCase, type TestResult } from "../run/test-cases";
import { database } from "../store/db";
import { getVersion } from "../store/workflows";
import { allow } from "./auth";
import { errorResponse } from "./http-errors";
import { answer, errors, spec } from "./openapi-spec";
import { isObject, limitBody, readJson } from "./request";

/**
 * `POST /api/workflows/:id/test`: a dry run of the workflow (its latest version, `version`, or
 * an unregistered `definition`) with sample input and mocks, answered with the execution report;
 * or, with `tests`, the definition's own test cases. Nothing is recorded anywhere.
 */
export const workflowTestRoutes = new Hono<{ Bindings: Env }>();

async function planFor(env: Env, workflowId: string, body: Record<string, Json>) {
  if (body.definition !== undefined) {
    const result = validateDefinition(body.definition);
    if (!result.ok) {
      const first = result.issues[0];
      fail(
        first?.code ?? "definition.invalid",
        first ? `${first.message} (at ${first.path.join(".") || "/"})` : "invalid definition",
        {
          details: { issues: result.issues },
        },
      );
    }
    if (result.definition.id !== workflowId) {
      fail("request.invalid", `the definition's id ${result.definition.id} is not ${workflowId}`);
    }
    // Version 0: a draft that was never registered.
    return { plan: compilePlan(result.definition, 0), configs: result.configs, definition: result.definition };
  }
  const version = body.version;
  if (version !== undefined && !(typeof version === "number" && Number.isInteger(version) && version >= 1)) {
    fail("request.invalid", "version must be a version number");
  }
  const stored = await getVersion(database(env.DB), workflowId, version as number | undefined);
  if (!stored) {
    if (version !== undefined && (await getVersion(database(env.DB), workflowId))) {
      fail("workflow.version_not_found", `workflow ${workflowId} has no version ${version}`);
    }
    fail("workflow.not_found", `no workflow ${workflowId}`);
  }
  const loaded = loadPlan(workflowId, stored.version, stored.definition);
  return { ...loaded, definition: stored.definition };
}

workflowTestRoutes.post(
  "/:id/test",
  spec({
    summary: "Dry run with sample input and mocks (no side effects, nothing recorded), or the definition's test cases",
    bodyOptional: true,
    body: z.object({
      input: z.unknown().optional(),
      mocks: z.record(z.string(), z.unknown()).optional(),
      http: z.array(z.unknown()).optional(),
      llm: z.array(z.unknown()).optional(),
      version: z.number().int().optional(),
      definition: z.record(z.string(), z.unknown()).optional().describe("an unregistered definition to run instead"),
      tests: z
        .union([z.literal(true), z.array(z.string())])
        .optional()
        .describe("run the definition's test cases: all, or these"),
      now: z.number().int().optional(),
    }),
    responses: {
      "200": answer("the execution report, or test results {passed, failed, results}"),
      ...errors(400, 401, 404, 413, 422),
    },
  }),
  allow("workflows.test", { workflow: "id" }),
  limitBody,
  async (c) => {
    const result = await testWorkflow(c.env, c.req.param("id"), await readJson(c, { allowEmpty: true }));
    if (!result.ok) return errorResponse(c, result.error);
    return c.json(result.value);
  },
);

export interface TestCasesResult {
  workflowId: string;
  version: number;
  passed: number;
  failed: number;
  results: TestResult[];
}

/**
 * A dry run, or the definition's test cases (`tests`), as the route and the dashboard ask for
 * them. Bad requests throw their error as routes do; mocks that do not fit come back as data.
 */
export async function testWorkflow(
  env: Env,
  workflowId: string,
  body: Json,
): Promise<{ ok: true; value: DryRunReport | TestCasesResult } | { ok: false; error: ErrorData }> {
  if (!isObject(body))
    fail("request.invalid", "expected a JSON object {input?, mocks?, http?, llm?, version?, definition?, tests?}");
  const { plan, configs, definition } = await planFor(env, workflowId, body);
  // What a real run's shell tells an llm attempt: its model, the run's spend, budget and prices.
  const llmContext = (state: RunState, nodeId: string) => llmAttemptInput(env, plan, state, nodeId, () => {});
  const shell: DryRunShell = {
    llmContext,
    publicUrl: publicUrl(env),
    limits: contextLimits(env),
    // A subworkflow's children run the stored version it names, as in a run (read, never written).
    loadWorkflow: async (workflow, version) => {
      const stored = await getVersion(database(env.DB), workflow, version);
      return stored && { workflowId: stored.workflowId, version: stored.version, definition: stored.definition };
    },
  };
  if (body.tests !== undefined) {
    const wanted = body.tests;
    if (wanted !== true && !(Array.isArray(wanted) && wanted.every((name) => typeof name === "string"))) {
      fail("request.invalid", "tests must be true (all) or a list of test names");
    }
    const cases = definition.tests ?? [];
    const names = new Set(cases.map((test) => test.name));
    const missing = Array.isArray(wanted) ? wanted.filter((name) => !names.has(name as string)) : [];
    if (missing.length > 0) fail("request.invalid", `no test named ${missing.join(", ")}`);
    const chosen = Array.isArray(wanted) ? cases.filter((test) => wanted.includes(test.name)) : cases;
    const results = [];
    for (const test of chosen) results.push(await runTestCase(plan, configs, test, shell));
    const passed = results.filter((result) => result.passed).length;
    return {
      ok: true,
      value: { workflowId: plan.workflowId, version: plan.version, passed, failed: results.length - passed, results },
    };
  }
  const mocks = parseMocks(plan, body.mocks, body.http, body.llm);
  if (!mocks.ok) return { ok: false, error: mocks.error };
  const now = body.now;
  if (now !== undefined && !(typeof now === "number" && Number.isSafeInteger(now) && now > 0)) {
    return { ok: false, error: errorData("request.invalid", "now must be epoch milliseconds") };
  }
  const report = await dryRun({
    plan,
    configs,
    input: body.input ?? {},
    mocks: mocks.mocks,
    ...shell,
    ...(typeof now === "number" ? { now } : {}),
  });
  return { ok: true, value: report };
}
