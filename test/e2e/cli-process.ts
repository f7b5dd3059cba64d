import { spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `signalbox ...` as a user would, as its own process on the Node in node_modules. The
 * environment is only what is passed (plus PATH and HOME), so a developer's own login or
 * SIGNALBOX_* variables never leak into a test. Bounded: a process still running after
 * `timeoutMs` is killed and the test fails on its null exit code.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const node = join(projectRoot, "node_modules", ".bin", "node");
  const child = spawn(node, [join(projectRoot, "cli", "signalbox.mjs"), ...args], {
    cwd: options.cwd ?? projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `--json` output, parsed; the failure message carries stderr when it is not JSON. */
export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}
