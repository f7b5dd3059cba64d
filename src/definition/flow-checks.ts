import type { ErrorCode } from "../errors";
import { checkExpression } from "../expr/jsonata";
import { parseDuration } from "../lib/duration";
import { flowSchema } from "./schema";

export interface FlowIssue {
  code: ErrorCode;
  /** Relative to the definition. */
  path: (string | number)[];
  message: string;
}

/**
 * What zod cannot see in a `flow` section: that its key and priority expressions parse as
 * JSONata, and that its parts can combine. Debounce holds triggers back to start one run later;
 * singleton decides at the trigger whether a run starts now: together a trigger would be both
 * held and answered at once, so the pair is refused.
 */
export function checkFlow(raw: unknown): FlowIssue[] {
  const parsed = flowSchema.safeParse(raw);
  if (!parsed.success) return [];
  const flow = parsed.data;
  const issues: FlowIssue[] = [];
  const expression = (path: (string | number)[], source: string | undefined) => {
    if (source === undefined) return;
    const problem = checkExpression(source);
    if (!problem) return;
    const where = problem.position === undefined ? "" : ` (position ${problem.position})`;
    issues.push({
      code: "definition.expression_invalid",
      path: ["flow", ...path],
      message: `invalid expression ${JSON.stringify(source)}: ${problem.message}${where}`,
    });
  };
  for (const [index, entry] of (flow.concurrency ?? []).entries()) expression(["concurrency", index, "key"], entry.key);
  expression(["throttle", "key"], flow.throttle?.key);
  expression(["rateLimit", "key"], flow.rateLimit?.key);
  expression(["debounce", "key"], flow.debounce?.key);
  expression(["singleton", "key"], flow.singleton?.key);
  expression(["priority"], flow.priority);
  if (flow.debounce && flow.singleton) {
    issues.push({
      code: "definition.invalid",
      path: ["flow", "singleton"],
      message: "flow.debounce and flow.singleton cannot combine: debounce already starts one run per key at a time",
    });
  }
  const debounce = flow.debounce;
  if (debounce?.maxWait !== undefined) {
    const [period, maxWait] = [debounce.period, debounce.maxWait].map((text) => parseDuration(text));
    if ((maxWait ?? 0) < (period ?? 0)) {
      issues.push({
        code: "definition.invalid",
        path: ["flow", "debounce", "maxWait"],
        message: "flow.debounce.maxWait must be at least its period",
      });
    }
  }
  return issues;
}
