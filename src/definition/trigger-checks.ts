import type { ErrorCode } from "../errors";
import { checkExpression } from "../expr/jsonata";
import { checkSchedule } from "../lib/cron";
import type { TriggerDefinition } from "./schema";

export interface TriggerIssue {
  code: ErrorCode;
  /** Relative to the trigger. */
  path: (string | number)[];
  message: string;
}

/**
 * What zod cannot see in a trigger: that its cron fires and its zone exists, and that its
 * input mapping and event filter parse as JSONata.
 */
export function checkTriggerFields(trigger: TriggerDefinition): TriggerIssue[] {
  const issues: TriggerIssue[] = [];
  const expression = (key: "input" | "filter", source: string | undefined) => {
    if (source === undefined) return;
    const problem = checkExpression(source);
    if (!problem) return;
    const where = problem.position === undefined ? "" : ` (position ${problem.position})`;
    issues.push({
      code: "definition.expression_invalid",
      path: [key],
      message: `invalid expression ${JSON.stringify(source)}: ${problem.message}${where}`,
    });
  };
  expression("input", trigger.input);
  if (trigger.type === "event") expression("filter", trigger.filter);
  if (trigger.type === "schedule") {
    const problem = checkSchedule(trigger.cron, trigger.timezone);
    if (problem?.code === "cron")
      issues.push({ code: "definition.cron_invalid", path: ["cron"], message: problem.message });
    if (problem?.code === "timezone") {
      issues.push({ code: "definition.timezone_invalid", path: ["timezone"], message: problem.message });
    }
  }
  return issues;
}
