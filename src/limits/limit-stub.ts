import type { Env } from "../env";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type { LimitState } from "./policy";
import type { Admission, CallReport, LimitConfig, TakeRequest } from "./types";

/** What a limit's object holds, for the API and metrics. */
export interface LimitSnapshot {
  name: string;
  config: LimitConfig;
  state: LimitState;
  /** Calls holding a turn that has not come yet. */
  waiting: number;
  /** The object's clock when it answered. */
  now: number;
}

/** The limit object's RPC surface as callers see it (LimitObject implements it). */
export interface LimitApi {
  take(name: string, config: LimitConfig, request: TakeRequest): Promise<Admission>;
  report(name: string, config: LimitConfig, report: CallReport): Promise<void>;
  /** Null for a limit no call has used yet. */
  snapshot(): Promise<LimitSnapshot | null>;
}

const limitMethods: MethodNames<LimitApi> = { take: true, report: true, snapshot: true };

export function limitStub(env: Env, name: string): LimitApi {
  return rpcStub(env.LIMITERS.get(env.LIMITERS.idFromName(name)), limitMethods);
}
