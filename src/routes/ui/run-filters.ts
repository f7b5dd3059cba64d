import { runStatuses } from "../../engine/state";
import { isRunId } from "../../lib/ids";
import type { RunSearch } from "../../store/run-search";
import { decodeCursor } from "../../store/runs";

/** The runs list's query string, as the filter form sends it. */
export interface RunFilters {
  search: RunSearch;
  cursor?: { createdAt: number; id: string };
  /** The query values that were usable, to fill the form and build links with. */
  values: Partial<Record<FilterName, string>>;
  /** Values that were not, and why: the page says so and ignores them. */
  problems: string[];
}

export const filterNames = ["q", "workflow", "status", "from", "to", "parent", "error", "cursor"] as const;
export type FilterName = (typeof filterNames)[number];

const activeStatuses: ReadonlySet<string> = new Set([
  "pending",
  "queued",
  "running",
  "waiting",
  "needs_review",
  "paused",
]);

export function isActiveStatus(status: string): boolean {
  return activeStatuses.has(status);
}

/**
 * A time from the form's datetime-local field (read as UTC), an ISO time, or epoch ms.
 * Undefined when it is none of those.
 */
export function parseTime(value: string): number | undefined {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  const local = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?$/.test(value);
  const ms = Date.parse(local ? `${value}${value.includes("T") ? "" : "T00:00"}Z` : value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Every value is checked; a bad one is reported and dropped, never an error page. */
export function parseRunFilters(query: Record<string, string>): RunFilters {
  const search: RunSearch = {};
  const values: RunFilters["values"] = {};
  const problems: string[] = [];
  let cursor: RunFilters["cursor"];
  const text = (name: FilterName) => {
    const value = query[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const take = (name: FilterName, value: string, ok: boolean, why: string) => {
    if (ok) values[name] = value;
    else problems.push(`${name}: ${why}; ignored`);
    return ok;
  };

  const q = text("q");
  // A short prefix matches most runs and would sort them all: ask for enough of the id.
  const usable = /^[A-Za-z0-9_.-]{8,200}$/.test(q ?? "");
  if (q && take("q", q, usable, "give 8 or more characters of a run id (letters, digits, _ . -)")) {
    search.idPrefix = q;
  }
  const workflow = text("workflow");
  if (workflow && take("workflow", workflow, workflow.length <= 200, "too long")) search.workflowId = workflow;
  const status = text("status");
  if (status && take("status", status, (runStatuses as readonly string[]).includes(status), "not a run status")) {
    search.status = status;
  }
  for (const [name, key] of [
    ["from", "createdFrom"],
    ["to", "createdTo"],
  ] as const) {
    const value = text(name);
    const time = value === undefined ? undefined : parseTime(value);
    if (value && take(name, value, time !== undefined, "not a date and time")) search[key] = time;
  }
  const parent = text("parent");
  if (parent && take("parent", parent, isRunId(parent), "not a run id")) search.parentRunId = parent;
  const error = text("error");
  if (error && take("error", error, /^[A-Za-z0-9_.-]{1,100}$/.test(error), "not an error code")) {
    search.errorCode = error;
  }
  const cursorText = text("cursor");
  if (cursorText) {
    cursor = cursorText.length <= 400 ? decodeCursor(cursorText) : undefined;
    take("cursor", cursorText, cursor !== undefined, "not a page of this list");
  }
  return { search, values, problems, ...(cursor ? { cursor } : {}) };
}

/** The list's URL with these values, some replaced (undefined removes one). */
export function runsHref(values: RunFilters["values"], changes: Partial<Record<FilterName, string | undefined>>) {
  const merged = { ...values, ...changes };
  const params = new URLSearchParams();
  for (const name of filterNames) {
    const value = merged[name];
    if (value !== undefined && value !== "") params.set(name, value);
  }
  const query = params.toString();
  return query ? `/ui/runs?${query}` : "/ui/runs";
}
