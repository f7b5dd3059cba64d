/**
 * Expressions: JSONata (compiled once, evaluated with limits) and `{{ }}` templates over a
 * run's context. A leaf: imports only errors.
 */
import jsonata from "jsonata";
import { errorData, SignalboxError } from "../errors";

type Compiled = ReturnType<typeof jsonata>;

/**
 * Guardrails for every evaluation. Workers freeze the clock during synchronous work, so the
 * time limit bites only across awaits; the stack limit and sequence cap are what stop a
 * runaway expression inside one turn, with the Worker CPU limit behind them.
 */
const limits = { timeout: 1_000, stack: 300, sequence: 100_000 } as const;
const cacheLimit = 2_000;
const cache = new Map<string, Compiled>();

export interface ExpressionProblem {
  message: string;
  position?: number | undefined;
}

function compile(source: string): Compiled {
  const cached = cache.get(source);
  if (cached) return cached;
  const compiled = jsonata(source, limits as never);
  if (cache.size >= cacheLimit) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(source, compiled);
  return compiled;
}

/** Parses without evaluating; returns the problem for registration-time checks. */
export function checkExpression(source: string): ExpressionProblem | undefined {
  if (source.trim() === "") return { message: "expression is empty" };
  try {
    compile(source);
    return undefined;
  } catch (thrown) {
    const problem = thrown as { message?: string; position?: number };
    return { message: problem.message ?? String(thrown), position: problem.position };
  }
}

/**
 * JSONata words its sequence errors with the size attempted, and its own 1e7 range cap sits
 * above ours: both are restated with the limit that applies here.
 */
function problemMessage(problem: { message?: string; code?: string; value?: unknown }): string | undefined {
  if (problem.code !== "D2014" && problem.code !== "D2015") return problem.message;
  return `a sequence of ${problem.value} items is over the limit of ${limits.sequence} items`;
}

export async function evaluate(source: string, context: unknown): Promise<unknown> {
  try {
    return await compile(source).evaluate(context);
  } catch (thrown) {
    const problem = thrown as { message?: string; code?: string; value?: unknown };
    throw new SignalboxError(
      errorData(
        "node.expression_failed",
        `expression ${JSON.stringify(source)} failed: ${problemMessage(problem) ?? String(thrown)}`,
        {
          details: { expression: source, jsonataCode: problem.code },
        },
      ),
      { cause: thrown },
    );
  }
}

/** JSONata truthiness, as `$boolean()` sees it. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (value && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}
