import { checkWorkflowCalls, workflowCalls } from "../src/definition/workflow-calls";
import { hashJson } from "../src/lib/hash";
import { type Api, createApi, type StoredWorkflow } from "./api";
import { Client } from "./client";
import { dependencyOrder } from "./dependency-order";
import { checkWorkflowFiles, type FileIssue, listWorkflowFiles, type WorkflowFile } from "./workflow-files";

export type PushStatus = "created" | "updated" | "unchanged" | "failed" | "skipped";

export interface PushResult {
  file: string;
  workflowId: string;
  status: PushStatus;
  /** The version the server has after the push (for a dry run: the one it has now, if any). */
  version?: number;
  /** For `updated`: the version it replaced. */
  previousVersion?: number;
  error?: string;
}

export interface PushOutcome {
  ok: boolean;
  dryRun: boolean;
  /** Why nothing was registered: every problem found before the first registration. */
  issues: FileIssue[];
  /** One per file, callees first; empty when `issues` stopped the push. */
  results: PushResult[];
  files: WorkflowFile[];
}

/**
 * `signalbox push` and `npm run dev`'s registration: every workflow file, checked as a whole
 * first (the server's own checks, offline, then the workflows they call against the server
 * and each other), so an invalid file registers nothing; then registered callees first. A
 * definition whose hash equals the server's latest version is left alone.
 */
export async function pushWorkflows(
  api: Api,
  paths: string[],
  options: { dryRun?: boolean; cwd?: string } = {},
): Promise<PushOutcome> {
  const dryRun = options.dryRun ?? false;
  const checked = await checkWorkflowFiles(await listWorkflowFiles(paths, options.cwd), options.cwd);
  if (!checked.ok) return { ok: false, dryRun, issues: checked.issues, results: [], files: [] };
  const files = checked.files;
  const byId = new Map(files.map((entry) => [entry.definition.id, entry]));

  const ordered = dependencyOrder(
    files.map((entry) => ({
      id: entry.definition.id,
      calls: workflowCalls(entry.definition).map((call) => call.workflowId),
    })),
  );
  if (!ordered.ok) {
    const first = byId.get(ordered.cycle[0] ?? "");
    const issue = {
      file: first?.file ?? "",
      path: "nodes",
      code: "definition.workflow_cycle",
      message: `workflows call each other: ${ordered.cycle.join(" -> ")}`,
    };
    return { ok: false, dryRun, issues: [issue], results: [], files };
  }

  const stored = new Map<string, StoredWorkflow | undefined>();
  await Promise.all(
    files.map(async (entry) => stored.set(entry.definition.id, await api.workflow(entry.definition.id))),
  );
  const issues = await checkCalls(api, files, stored);
  if (issues.length > 0) return { ok: false, dryRun, issues, results: [], files };

  const results: PushResult[] = [];
  let failed = false;
  for (const workflowId of ordered.order) {
    const entry = byId.get(workflowId) as WorkflowFile;
    const current = stored.get(workflowId);
    const base = { file: entry.file, workflowId };
    if (current && current.hash === (await hashJson(entry.definition))) {
      results.push({ ...base, status: "unchanged", version: current.version });
    } else if (failed) {
      results.push({ ...base, status: "skipped" });
    } else if (dryRun) {
      results.push(current ? { ...base, status: "updated", version: current.version } : { ...base, status: "created" });
    } else {
      try {
        const answer = await api.register(entry.definition);
        const status = answer.unchanged ? "unchanged" : current ? "updated" : "created";
        const previous = status === "updated" && current ? { previousVersion: current.version } : {};
        results.push({ ...base, status, version: answer.version, ...previous });
      } catch (thrown) {
        failed = true;
        results.push({ ...base, status: "failed", error: (thrown as Error).message });
      }
    }
  }
  return { ok: !failed, dryRun, issues: [], results, files };
}

/**
 * The registration's check of called workflows, run before anything is registered: a call
 * resolves to a file in this push first (it will be the latest version by the time its caller
 * is registered), then to what the server has.
 */
async function checkCalls(
  api: Api,
  files: WorkflowFile[],
  stored: Map<string, StoredWorkflow | undefined>,
): Promise<FileIssue[]> {
  const local = new Map(files.map((entry) => [entry.definition.id, entry.definition]));
  const remote = new Map<string, Promise<StoredWorkflow | undefined>>();
  const load = async (workflowId: string, version?: number) => {
    const pushed = version === undefined ? local.get(workflowId) : undefined;
    if (pushed) return { version: (stored.get(workflowId)?.version ?? 0) + 1, definition: pushed };
    const key = `${workflowId}@${version ?? "latest"}`;
    let found = remote.get(key);
    if (!found) {
      found = api.workflow(workflowId, version);
      remote.set(key, found);
    }
    const answer = await found;
    return answer && { version: answer.version, definition: answer.definition };
  };
  const issues: FileIssue[] = [];
  for (const entry of files) {
    for (const issue of await checkWorkflowCalls(entry.definition, load)) {
      issues.push({ file: entry.file, path: issue.path.join("."), code: issue.code, message: issue.message });
    }
  }
  return issues;
}

/** The same push for scripts (`npm run dev`, tests) that hold a URL and key rather than a command line. */
export function pushTo(
  server: { url: string; token: string },
  paths: string[],
  options: { dryRun?: boolean; cwd?: string } = {},
): Promise<PushOutcome> {
  const api = createApi(new Client({ url: server.url, token: server.token, tokenSource: undefined }));
  return pushWorkflows(api, paths, options);
}
