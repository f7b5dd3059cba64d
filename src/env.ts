import type { RunObject } from "./run/run-object";

export interface Env {
  DB: D1Database;
  RUNS: DurableObjectNamespace<RunObject>;
  /** Bearer token every /api route requires (a Worker secret; `.dev.vars` locally). */
  API_TOKEN?: string;
  DEDUP_WINDOW_DEFAULT?: string;
}
