import { envPrices } from "../adapters/llm";
import { llmAttemptContext } from "../engine/llm";
import type { Plan } from "../engine/plan";
import type { RunState } from "../engine/state";
import type { LlmAttemptContext } from "../llm/types";

/**
 * What an llm node's attempt gets from the shell besides its ports: its place in the model
 * chain, the run's spend and budget, and the prices (the LLM_PRICES var under the definition's).
 */
export function llmAttemptInput(
  env: Record<string, unknown>,
  plan: Plan,
  state: RunState,
  nodeId: string,
  warn: (message: string) => void,
): LlmAttemptContext | undefined {
  if (!plan.nodes[nodeId]?.llm) return undefined;
  const { prices, problem } = envPrices(env);
  if (problem) warn(problem);
  return llmAttemptContext(plan, state, nodeId, prices);
}
