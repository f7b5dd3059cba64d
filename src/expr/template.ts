import { checkExpression, type ExpressionProblem, evaluate } from "./jsonata";

const placeholder = /\{\{([\s\S]+?)\}\}/g;

/** The JSONata sources inside a `{{ expr }}` template. */
export function templateExpressions(template: string): string[] {
  return [...template.matchAll(placeholder)].map((match) => (match[1] ?? "").trim());
}

export function checkTemplate(template: string): ExpressionProblem | undefined {
  for (const source of templateExpressions(template)) {
    const problem = checkExpression(source);
    if (problem) return problem;
  }
  return undefined;
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/**
 * Renders `{{ expr }}` placeholders; a string without placeholders costs nothing. `escapeValue`
 * applies to interpolated values only (HTML templates escape what the context supplies).
 */
export async function renderTemplate(
  template: string,
  context: unknown,
  escapeValue: (text: string) => string = (text) => text,
): Promise<string> {
  if (!template.includes("{{")) return template;
  const parts: string[] = [];
  let last = 0;
  for (const match of template.matchAll(placeholder)) {
    parts.push(template.slice(last, match.index));
    parts.push(escapeValue(stringify(await evaluate((match[1] ?? "").trim(), context))));
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(template.slice(last));
  return parts.join("");
}
