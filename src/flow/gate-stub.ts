import type { Env } from "../env";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type { DebounceAnswer, DebounceInput } from "./debounce";
import type { AcquireInput } from "./gate-object";
import type { Rate } from "./gcra";
import type { AcquireResult, GateConfig, SingletonResult } from "./types";

/** The gate object's RPC surface as callers see it (declared, like the run's, to keep RPC types shallow; GateObject implements it). */
export interface GateApi {
  acquire(name: string, input: AcquireInput): Promise<AcquireResult>;
  release(runId: string): Promise<{ released: boolean }>;
  claimSingle(name: string, input: { runId: string; config: GateConfig }): Promise<SingletonResult>;
  holds(runId: string): Promise<{ granted: boolean }>;
  standing(runId: string): Promise<AcquireResult | null>;
  snapshot(): Promise<{ config: GateConfig | null; running: string[]; waiting: string[]; debouncing?: string }>;
  /** `flow.debounce`: the trigger joins its key's window; the window's run starts once the key is quiet. */
  debounce(name: string, input: DebounceInput): Promise<DebounceAnswer>;
  /** A rate limit's bucket: one trigger taken, or refused. */
  takeRate(name: string, rate: Rate): Promise<{ ok: boolean; retryAt?: number }>;
}

const gateMethods: MethodNames<GateApi> = {
  acquire: true,
  release: true,
  claimSingle: true,
  holds: true,
  standing: true,
  snapshot: true,
  takeRate: true,
  debounce: true,
};

export function gateStub(env: Env, name: string): GateApi {
  return rpcStub(env.GATES.get(env.GATES.idFromName(name)), gateMethods);
}
