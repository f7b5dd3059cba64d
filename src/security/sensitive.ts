import type { Json, JsonObject } from "../lib/json";
import { isSealed, type Keyring, type Sealed } from "./seal";

/**
 * What a workflow marks sensitive, as the run applies it: whole top-level context keys (those
 * listed under `sensitive.context` and every key a node marked `sensitive: "output"` writes),
 * and fields inside the run's `input` by path.
 */
export interface SensitivePolicy {
  keys: ReadonlySet<string>;
  /** Paths inside `input`, split on dots; an array on the way applies the rest to each item. */
  inputPaths: readonly (readonly string[])[];
  /**
   * Everything the run holds but `trigger` and `run`: a child run (map, loop, subworkflow) of a
   * run whose workflow marks sensitive data, whose input and outputs may carry it.
   */
  all?: boolean;
}

/** Context keys every run writes about itself: never sealed, even under `all`. */
const ownKeys: ReadonlySet<string> = new Set(["trigger", "run"]);

export function isEmptyPolicy(policy: SensitivePolicy | undefined): boolean {
  return !policy || (!policy.all && policy.keys.size === 0 && policy.inputPaths.length === 0);
}

/**
 * A patch (a node's output or a run's initial context) as it is stored: each sensitive value
 * sealed; `remember` learns every sealed value's plain value (the live context keeps it).
 */
export async function sealPatch(
  patch: JsonObject,
  policy: SensitivePolicy,
  ring: Keyring,
  remember?: (sealed: Sealed, plain: Json) => void,
): Promise<JsonObject> {
  const seal = async (value: Json): Promise<Json> => {
    if (isSealed(value)) return value;
    const sealed = await ring.seal(value);
    remember?.(sealed, value);
    return sealed;
  };
  const out: JsonObject = { ...patch };
  for (const [key, value] of Object.entries(patch)) {
    if (policy.keys.has(key) || (policy.all && !ownKeys.has(key))) out[key] = await seal(value);
    else if (key === "input" && policy.inputPaths.length > 0) {
      let input = value;
      for (const path of policy.inputPaths) input = await sealPath(input, path, seal);
      out[key] = input;
    }
  }
  return out;
}

async function sealPath(value: Json, path: readonly string[], seal: (value: Json) => Promise<Json>): Promise<Json> {
  if (path.length === 0) return seal(value);
  if (Array.isArray(value)) return Promise.all(value.map((item) => sealPath(item, path, seal)));
  if (value === null || typeof value !== "object" || isSealed(value)) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(value, head)) return value;
  return { ...value, [head]: await sealPath(value[head] as Json, rest, seal) };
}
