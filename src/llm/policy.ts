import type { ErrorCode, ErrorData } from "../errors";
import type { Json } from "../lib/json";
import { validateJson } from "../lib/json-schema";
import type {
  LlmBudget,
  LlmCallOutcome,
  LlmCallRecord,
  ModelPrice,
  PriceTable,
  TokenUsage,
  UsageTotals,
} from "./types";

/**
 * The pure rules of an LLM step: what a call costs, whether the next one fits the budget,
 * whether an answer fits its contract, what the repair prompt says, and how confident the
 * model claimed to be. The node, the engine and the tests share them.
 */

export const noUsage: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

export function emptyTotals(): UsageTotals {
  return { calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, unpricedCalls: 0 };
}

/** Dollars are kept to a billionth so sums of small prices do not drift. */
function roundUsd(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

export function priceOf(prices: PriceTable, provider: string, model: string): ModelPrice | undefined {
  return prices[`${provider}/${model}`] ?? prices[model] ?? prices["*"];
}

export function costOf(usage: TokenUsage, price: ModelPrice | undefined): number | null {
  if (!price) return null;
  return roundUsd((usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000);
}

/** Adds calls to totals. Cached answers were paid for once, by the run that stored them. */
export function addCalls(totals: UsageTotals, calls: readonly LlmCallRecord[]): UsageTotals {
  const next = { ...totals };
  for (const call of calls) {
    next.calls += 1;
    if (call.cached) {
      next.cachedCalls += 1;
      continue;
    }
    next.inputTokens += call.usage.inputTokens;
    next.outputTokens += call.usage.outputTokens;
    next.totalTokens += call.usage.totalTokens;
    if (call.costUsd === null) next.unpricedCalls += 1;
    else next.costUsd = roundUsd(next.costUsd + call.costUsd);
  }
  return next;
}

/** Default output allowance when a node sets no `maxTokens`: what a call may cost at most. */
export const defaultOutputAllowance = 1_024;

/**
 * A call's worst case before it is made: the prompt's tokens (about four characters each) and
 * every output token the node allows.
 */
export function estimateCall(
  promptChars: number,
  maxTokens: number | undefined,
  price: ModelPrice | undefined,
): { tokens: number; costUsd: number | null } {
  const usage = {
    inputTokens: Math.ceil(promptChars / 4),
    outputTokens: maxTokens ?? defaultOutputAllowance,
    totalTokens: 0,
  };
  usage.totalTokens = usage.inputTokens + usage.outputTokens;
  return { tokens: usage.totalTokens, costUsd: costOf(usage, price) };
}

export interface BudgetBreach {
  limit: "tokens" | "costUsd";
  budget: number;
  spent: number;
  estimate: number;
}

/** Whether the next call could take the run past its budget (an unpriced call has no cost limit). */
export function budgetBreach(
  budget: LlmBudget | undefined,
  spent: UsageTotals,
  estimate: { tokens: number; costUsd: number | null },
): BudgetBreach | undefined {
  if (!budget) return undefined;
  if (budget.tokens !== undefined && spent.totalTokens + estimate.tokens > budget.tokens) {
    return { limit: "tokens", budget: budget.tokens, spent: spent.totalTokens, estimate: estimate.tokens };
  }
  if (budget.costUsd !== undefined && estimate.costUsd !== null && spent.costUsd + estimate.costUsd > budget.costUsd) {
    return { limit: "costUsd", budget: budget.costUsd, spent: spent.costUsd, estimate: estimate.costUsd };
  }
  return undefined;
}

/** The report's record of a call the provider failed: no usage, no cost, the error and its outcome. */
export function failedCallRecord(
  base: Pick<LlmCallRecord, "attempt" | "call" | "purpose" | "provider" | "model" | "startedAt">,
  response: { error: ErrorData; latencyMs: number },
): LlmCallRecord {
  return {
    ...base,
    latencyMs: response.latencyMs,
    outcome: callOutcomeOf(response.error.code),
    finishReason: null,
    usage: noUsage,
    costUsd: null,
    cached: false,
    error: { code: response.error.code, message: response.error.message },
  };
}

/** What a failed call counts as in the report. */
export function callOutcomeOf(code: ErrorCode): LlmCallOutcome {
  switch (code) {
    case "llm.timeout":
    case "node.timeout":
      return "timeout";
    case "llm.rate_limited":
      return "rate_limited";
    case "llm.request_rejected":
    case "llm.not_configured":
    case "embed.not_supported":
      return "rejected";
    default:
      return "provider_error";
  }
}

/** A model's JSON, with the Markdown fence many models put around it taken off. */
export function parseJsonAnswer(text: string): { ok: true; value: Json } | { ok: false; error: string } {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i.exec(trimmed);
  const body = fenced ? (fenced[1] ?? "") : trimmed;
  try {
    return { ok: true, value: JSON.parse(body) as Json };
  } catch (thrown) {
    return { ok: false, error: thrown instanceof Error ? thrown.message : String(thrown) };
  }
}

/** A value at a dotted path (`a.b.c`) of an object, or undefined. */
export function readPath(value: Json, path: string): Json | undefined {
  let at: Json | undefined = value;
  for (const segment of path.split(".")) {
    if (typeof at !== "object" || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, Json>)[segment];
  }
  return at;
}

export interface AnswerCheck {
  /** The parsed answer, when it parsed. */
  value?: Json;
  outcome: "ok" | "invalid_json" | "schema_invalid";
  /** `path: message` lines, what the repair prompt quotes. */
  errors: string[];
}

/**
 * Checks a structured answer: JSON, the node's schema, and (when the node reads one) a numeric
 * confidence field. Anything short of that is something a repair can ask the model to fix.
 */
export function checkAnswer(text: string, schema: Record<string, unknown>, confidenceField?: string): AnswerCheck {
  const parsed = parseJsonAnswer(text);
  if (!parsed.ok) return { outcome: "invalid_json", errors: [`the answer is not JSON: ${parsed.error}`] };
  const errors = validateJson(schema, parsed.value).map((entry) => `${entry.path}: ${entry.message}`);
  if (confidenceField !== undefined) {
    const confidence = readPath(parsed.value, confidenceField);
    if (typeof confidence !== "number" || !Number.isFinite(confidence)) {
      errors.push(`/${confidenceField.replaceAll(".", "/")}: must be a number (the answer's confidence)`);
    }
  }
  return { value: parsed.value, outcome: errors.length > 0 ? "schema_invalid" : "ok", errors };
}

const maxQuotedErrors = 10;
const maxQuotedChars = 2_000;

/** The follow-up message that asks the model to fix its answer, quoting what was wrong. */
export function repairPrompt(errors: readonly string[]): string {
  const quoted = errors.slice(0, maxQuotedErrors).map((error) => `- ${error}`);
  if (errors.length > maxQuotedErrors) quoted.push(`- ... and ${errors.length - maxQuotedErrors} more`);
  const list = quoted.join("\n").slice(0, maxQuotedChars);
  return [
    "Your previous answer does not match the required JSON Schema. These are the validation errors:",
    list,
    "",
    "Answer again with only the corrected JSON object: no Markdown, no explanation.",
  ].join("\n");
}

/** The instruction added to the system prompt when a node expects structured output. */
export function schemaInstruction(schema: Record<string, unknown>): string {
  return [
    "Answer with a single JSON object and nothing else: no Markdown fences, no explanation.",
    "It must validate against this JSON Schema:",
    JSON.stringify(schema),
  ].join("\n");
}

/** Below the node's threshold? A missing or non-numeric confidence was already a schema error. */
export function isLowConfidence(value: Json, field: string, threshold: number): { low: boolean; confidence: number } {
  const confidence = readPath(value, field);
  const number = typeof confidence === "number" ? confidence : Number.NaN;
  return { low: !(number >= threshold), confidence: number };
}

/** An error the port returned, with the fields the engine's retry rules read kept as they are. */
export function callError(error: ErrorData): { code: string; message: string } {
  return { code: error.code, message: error.message };
}
