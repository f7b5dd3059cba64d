import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import type { WorkflowDefinition } from "../src/definition/schema";
import { type DefinitionIssue, validateDefinition } from "../src/definition/validate";
import { CliError, usageError } from "./cli-error";

/** A problem with one file: where (file and JSON path), the stable code, and what is wrong. */
export interface FileIssue {
  file: string;
  path: string;
  code: string;
  message: string;
}

export interface WorkflowFile {
  file: string;
  /** The document as written (with `$schema` and all), for the server. */
  raw: unknown;
  /** The definition as the server will store it: defaults filled in. */
  definition: WorkflowDefinition;
}

export type CheckedFiles = { ok: true; files: WorkflowFile[] } | { ok: false; issues: FileIssue[]; checked: number };

/** Every *.json under the given files and folders (folders not recursed), sorted within a folder. */
export async function listWorkflowFiles(paths: string[], cwd = process.cwd()): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absolute);
    } catch {
      throw usageError(`${path}: no such file or folder`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(absolute)).filter((name) => name.endsWith(".json")).sort();
      if (names.length === 0) throw new CliError(`${path}: no *.json workflow files in this folder`);
      found.push(...names.map((name) => join(path, name)));
    } else {
      found.push(path);
    }
  }
  // Named relative to where the command runs when inside it, so messages match what was typed.
  return [
    ...new Set(
      found.map((file) => {
        const name = relative(cwd, resolve(cwd, file));
        return name.startsWith("..") ? resolve(cwd, file) : name;
      }),
    ),
  ];
}

function issuePath(issue: DefinitionIssue): string {
  return issue.path.length === 0 ? "/" : issue.path.join(".");
}

/**
 * Reads and checks each file as the server's registration does before it looks anything up:
 * the schema, node configs, expressions, the graph, triggers and test cases
 * (src/definition/validate.ts). What needs the server (workflows a definition calls) is not here.
 */
export async function checkWorkflowFiles(files: string[], cwd = process.cwd()): Promise<CheckedFiles> {
  const issues: FileIssue[] = [];
  const checked: WorkflowFile[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(resolve(cwd, file), "utf8");
    } catch (thrown) {
      issues.push({ file, path: "/", code: "file.unreadable", message: (thrown as Error).message });
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (thrown) {
      issues.push({ file, path: "/", code: "file.invalid_json", message: (thrown as Error).message });
      continue;
    }
    const result = validateDefinition(raw);
    if (!result.ok) {
      for (const issue of result.issues) {
        issues.push({ file, path: issuePath(issue), code: issue.code, message: issue.message });
      }
      continue;
    }
    checked.push({ file, raw, definition: result.definition });
  }
  const byId = new Map<string, string>();
  for (const entry of checked) {
    const other = byId.get(entry.definition.id);
    if (other) {
      issues.push({
        file: entry.file,
        path: "id",
        code: "definition.duplicate_workflow",
        message: `workflow "${entry.definition.id}" is also defined in ${other}`,
      });
    }
    byId.set(entry.definition.id, entry.file);
  }
  return issues.length > 0 ? { ok: false, issues, checked: files.length } : { ok: true, files: checked };
}
