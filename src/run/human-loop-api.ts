import type { Env } from "../env";
import type { ErrorData } from "../errors";
import type { Json } from "../lib/json";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type { DecideInput, DecideResult, ReviewInfo, ReviewQuery } from "./reviews";

export type EventDelivery =
  | { status: "consumed"; eventId: string; nodeId: string }
  | { status: "buffered"; eventId: string }
  | { status: "duplicate"; eventId: string; nodeId: string | null };

/**
 * The run object's human-in-the-loop RPC surface as routes see it. Declared rather than
 * inferred, like `RunApi`: inferred RPC types of JSON values are too deep for the checker.
 */
export interface HumanLoopApi {
  reviewInfo(query: ReviewQuery): Promise<ReviewInfo | null>;
  decide(input: DecideInput): Promise<DecideResult | null>;
  deliverEvent(input: {
    name: string;
    id?: string;
    payload: Json;
    receivedAt: number;
  }): Promise<EventDelivery | { error: ErrorData } | null>;
}

const methods: MethodNames<HumanLoopApi> = { reviewInfo: true, decide: true, deliverEvent: true };

export function humanLoopStub(env: Env, runId: string): HumanLoopApi {
  return rpcStub(env.RUNS.get(env.RUNS.idFromName(runId)), methods);
}
