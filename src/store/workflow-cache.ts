import type { Env } from "../env";
import { parseDuration } from "../lib/duration";
import type { WorkflowForRun } from "./triggers";

/** How long an isolate may start runs from the latest version it read, without reading again. */
export const defaultWorkflowCacheTtlMs = 2_000;
const entryLimit = 500;

/**
 * The latest version of each workflow as triggers see it, kept per isolate for a short time:
 * the D1 read it saves was the largest part of the time from a trigger to the first step.
 *
 * Writes through this isolate (register, disable, enable, delete) drop the entry at once, so in
 * one isolate (every `wrangler dev`, every test) a trigger always sees the latest write. Another
 * isolate sees it within the TTL, as a deploy reaches every location of a platform in a few
 * seconds. A workflow that is not found is never kept. API reads go to D1. The store's write
 * functions call `forgetWorkflow`; triggers read through `latestWorkflowForTrigger`
 * (src/store/triggers.ts).
 */
export class WorkflowCache {
  private readonly entries = new Map<string, { value: WorkflowForRun; at: number }>();
  /** Bumped by every write, so a read that began before it cannot put back what it replaced. */
  private readonly generations = new Map<string, number>();

  async get(
    workflowId: string,
    now: number,
    ttlMs: number,
    load: () => Promise<WorkflowForRun | undefined>,
  ): Promise<WorkflowForRun | undefined> {
    const hit = this.entries.get(workflowId);
    if (hit && ttlMs > 0 && now >= hit.at && now - hit.at < ttlMs) return hit.value;
    const generation = this.generations.get(workflowId) ?? 0;
    const value = await load();
    if (value === undefined || ttlMs <= 0) {
      this.entries.delete(workflowId);
      return value;
    }
    if ((this.generations.get(workflowId) ?? 0) === generation) {
      this.entries.delete(workflowId);
      if (this.entries.size >= entryLimit) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(workflowId, { value, at: now });
    }
    return value;
  }

  /** A write to the workflow's row or versions: the next trigger reads D1. */
  forget(workflowId: string): void {
    this.entries.delete(workflowId);
    this.generations.set(workflowId, (this.generations.get(workflowId) ?? 0) + 1);
  }
}

const isolateCache = new WorkflowCache();

/** WORKFLOW_CACHE_TTL (a duration; "0s" turns the cache off), 2 s when unset or unreadable. */
export function workflowCacheTtlMs(env: Pick<Env, "WORKFLOW_CACHE_TTL">): number {
  return parseDuration(env.WORKFLOW_CACHE_TTL ?? "") ?? defaultWorkflowCacheTtlMs;
}

/** This isolate's entry for the workflow, or what `load` reads (kept for `ttlMs`). */
export function isolateWorkflow(
  workflowId: string,
  ttlMs: number,
  load: () => Promise<WorkflowForRun | undefined>,
): Promise<WorkflowForRun | undefined> {
  return isolateCache.get(workflowId, Date.now(), ttlMs, load);
}

/** Called by every write to a workflow's row or versions, once it has committed. */
export function forgetWorkflow(workflowId: string): void {
  isolateCache.forget(workflowId);
}
