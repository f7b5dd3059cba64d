// What the figures ran on.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { root } from "./server.mjs";

function version(pkg) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** The commit measured, and whether src/ had uncommitted changes (the bench runs the work tree). */
function source() {
  try {
    const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    return { commit: git("rev-parse", "--short", "HEAD"), srcChanged: git("status", "--porcelain", "src") !== "" };
  } catch {
    return { commit: "unknown", srcChanged: false };
  }
}

export async function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    wrangler: version("wrangler"),
    workerd: version("workerd"),
    autocannon: version("autocannon"),
    ...source(),
    // Other work on the machine skews every figure: the 1-minute load when the run began.
    loadAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}
