import type { JsonObject } from "../../lib/json";
import { isObject } from "../request";

export type ReplayInput = { ok: true; fromNode: string; context?: JsonObject } | { ok: false; error: string };

/**
 * The replay form's fields, checked as the API checks its body: the step must be one the run
 * has, and the edits a JSON object that leaves `run` and `trigger` alone. Nothing is sent
 * until they are.
 */
export function parseReplayForm(form: FormData, nodes: readonly string[]): ReplayInput {
  const fromNode = form.get("fromNode");
  if (typeof fromNode !== "string" || !nodes.includes(fromNode)) {
    return { ok: false, error: "Choose a step of this run to start from." };
  }
  const text = form.get("context");
  if (typeof text !== "string" || text.trim() === "" || text.trim() === "{}") return { ok: true, fromNode };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (thrown) {
    return { ok: false, error: `The context edits are not valid JSON: ${(thrown as Error).message}` };
  }
  if (!isObject(parsed)) return { ok: false, error: "The context edits must be a JSON object of top-level keys." };
  const reserved = Object.keys(parsed).filter((key) => key === "run" || key === "trigger");
  if (reserved.length > 0) {
    return {
      ok: false,
      error: `A replay cannot edit ${reserved.join(" or ")}: the run owns them.`,
    };
  }
  return { ok: true, fromNode, context: parsed };
}
