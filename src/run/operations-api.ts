import type { Env } from "../env";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import type {
  CompensateInput,
  CompensateResult,
  OperationResult,
  ReplaySeed,
  ReplayStart,
  RetryInput,
  RetryResult,
} from "./operations";

/**
 * The run object's operations as routes see them. Declared rather than inferred, like `RunApi`:
 * the inferred RPC types of JSON values are too deep for the checker.
 */
export interface OperationsApi {
  pause(input?: { reason?: string; by?: string }): Promise<OperationResult<{ status: string; pausedAt: number }>>;
  unpause(input?: { by?: string }): Promise<OperationResult<{ status: string; released: number }>>;
  retry(input?: RetryInput): Promise<OperationResult<RetryResult>>;
  replaySeed(input: { fromNode: string }): Promise<OperationResult<ReplaySeed>>;
  startReplay(input: ReplayStart): Promise<{ runId: string; status: string; created: boolean }>;
  cancel(reason?: string): Promise<OperationResult<{ status: string }>>;
  compensate(input: CompensateInput): Promise<OperationResult<CompensateResult>>;
}

const methods: MethodNames<OperationsApi> = {
  pause: true,
  unpause: true,
  retry: true,
  replaySeed: true,
  startReplay: true,
  cancel: true,
  compensate: true,
};

export function operationsStub(env: Env, runId: string): OperationsApi {
  return rpcStub(env.RUNS.get(env.RUNS.idFromName(runId)), methods);
}
