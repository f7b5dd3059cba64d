import type { NodeOutcome } from "../engine/outcome";
import { errorData } from "../errors";
import type { LimitHandle, LimitLookup, TakeRequest } from "../limits/types";

/** What a node does when its call's circuit is open: wait on the run's alarm, or fail at once with `circuit.open`. */
export const circuitOpenActions = ["wait", "fail"] as const;
export type CircuitOpenAction = (typeof circuitOpenActions)[number];

export type LimitPass =
  /** Call now; report the outcome to `limit` when there is one. */
  | { go: true; limit: LimitHandle | undefined }
  /** Do not call: the attempt is deferred, or fails (circuit open with `fail`, a limit that is not there). */
  | { go: false; outcome: Extract<NodeOutcome, { type: "failure" | "deferred" }> };

const free: LimitPass = { go: true, limit: undefined };

/**
 * Asks the call's limit, if it has one, whether it may go. Waiting becomes a `deferred` outcome
 * (the engine re-runs the attempt at the time given, spending nothing); an open circuit under
 * `onCircuitOpen: "fail"` becomes a `circuit.open` failure, retryable after the cool-down, so the
 * node's retry policy decides what follows.
 */
export async function passLimit(
  lookup: LimitLookup | undefined,
  request: TakeRequest,
  onCircuitOpen: CircuitOpenAction,
  now: number,
): Promise<LimitPass> {
  if (!lookup) return free;
  if (!lookup.ok) return { go: false, outcome: { type: "failure", error: errorData(lookup.code, lookup.message) } };
  const limit = lookup.limit;
  if (!limit) return free;
  const answer = await limit.take(request);
  if (answer.go) return { go: true, limit };
  if (answer.reason === "circuit" && onCircuitOpen === "fail") {
    const error = errorData(
      "circuit.open",
      `the circuit of ${limit.name} is ${answer.circuit ?? "open"}: not calling`,
      {
        retryable: true,
        retryAfterMs: Math.max(0, answer.until - now),
        details: { limit: limit.name, until: answer.until },
      },
    );
    return { go: false, outcome: { type: "failure", error } };
  }
  return {
    go: false,
    outcome: { type: "deferred", deferral: { until: answer.until, limit: limit.name, reason: answer.reason } },
  };
}
