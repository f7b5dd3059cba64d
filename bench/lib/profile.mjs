// CPU profile of Signalbox inside the dev server's workerd, through workerd's own inspector.
// (Run with Signalbox as the first worker: with it second, wrangler's inspector proxy keeps
// taking the connection back.) Self time is grouped by the source module it was spent in,
// read from the `// path` comments esbuild leaves in bundles.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { root } from "./server.mjs";

/** The websocket of `target` in the workerd (of process group `pgid`) that runs it. */
async function inspectorUrl(pgid, target) {
  const pids = readdirSync("/proc").filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[2]) === pgid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr");
    } catch {
      return false;
    }
  });
  const sockets = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" }).split("\n");
  for (const line of sockets.filter((entry) => pids.some((pid) => entry.includes(`pid=${pid},`)))) {
    const port = /127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    try {
      const list = await (
        await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1_000) })
      ).json();
      const found = list.find((entry) => entry.id === target);
      if (found) return found.webSocketDebuggerUrl;
    } catch {}
  }
  throw new Error(`no inspector target ${target} in process group ${pgid}`);
}

function connect(url) {
  const socket = new WebSocket(url);
  const pending = new Map();
  let next = 1;
  socket.addEventListener("close", (event) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`inspector closed: ${event.code} ${event.reason}`));
    pending.clear();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
    else waiter.resolve(message.result);
  });
  const opened = new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  return {
    opened,
    call(method, params = {}) {
      const id = next++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close: () => socket.close(),
  };
}

/** Line number -> module path, from the `// path/to/module.ts` comments in a bundle. */
function moduleIndex(source, url) {
  const starts = [];
  for (const [index, line] of source.split("\n").entries()) {
    const match = /^\/\/ (\S+\.(?:[cm]?[jt]s|tsx))$/.exec(line);
    if (!match) continue;
    // "../../../../work/main/src/x.ts" -> "src/x.ts"; dependencies keep "node_modules/...".
    const path = match[1].replace(/^(\.\.\/)+/, "/");
    starts.push([
      index,
      path.includes("/node_modules/")
        ? path.replace(/^.*\/node_modules\//, "node_modules/")
        : path.replace(`${root}/`, ""),
    ]);
  }
  return (line) => {
    let found = url;
    for (const [start, path] of starts) {
      if (start > line) break;
      found = path;
    }
    return found;
  };
}

/**
 * Runs `workload` with the CPU profiler on `target` and returns self time per module and per
 * function in ms, with the wall time. `workload` returns how many units (runs, steps) it did.
 */
export async function profile(server, target, workload) {
  const session = connect(await inspectorUrl(server.pgid(), target));
  await session.opened;
  await session.call("Profiler.enable");
  await session.call("Profiler.setSamplingInterval", { interval: 100 });
  await session.call("Profiler.start");
  const began = performance.now();
  const units = await workload();
  const wallMs = performance.now() - began;
  const { profile: cpu } = await session.call("Profiler.stop");
  await session.call("Debugger.enable");
  const indexes = new Map();
  for (const node of cpu.nodes) {
    const { scriptId, url } = node.callFrame;
    if (scriptId === "0" || indexes.has(scriptId) || !url) continue;
    try {
      const { scriptSource } = await session.call("Debugger.getScriptSource", { scriptId });
      indexes.set(scriptId, moduleIndex(scriptSource, url));
    } catch {
      indexes.set(scriptId, () => url);
    }
  }
  await session.call("Debugger.disable");
  session.close();

  const selfUs = new Map();
  for (const [i, id] of cpu.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (cpu.timeDeltas[i] ?? 0));
  const modules = new Map();
  const functions = new Map();
  for (const node of cpu.nodes) {
    const us = selfUs.get(node.id);
    if (!us) continue;
    const { functionName, scriptId, lineNumber } = node.callFrame;
    const index = indexes.get(scriptId);
    const where = index ? index(lineNumber) : functionName.startsWith("(") ? functionName : "(native)";
    const name = `${functionName || "(anonymous)"} [${where}]`;
    modules.set(where, (modules.get(where) ?? 0) + us / 1000);
    functions.set(name, (functions.get(name) ?? 0) + us / 1000);
  }
  // Inclusive time per function: each sample counts once for every distinct function on its
  // stack. Stacks restart at every await, so this splits work at async boundaries.
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]));
  const inclusive = new Map();
  const walk = (node, onStack) => {
    const { functionName, scriptId, lineNumber } = node.callFrame;
    const index = indexes.get(scriptId);
    const name = index ? `${functionName || "(anonymous)"} [${index(lineNumber)}]` : undefined;
    const fresh = name !== undefined && !onStack.has(name);
    if (fresh) onStack.add(name);
    let total = (selfUs.get(node.id) ?? 0) / 1000;
    for (const child of node.children ?? []) total += walk(byId.get(child), onStack);
    if (fresh) {
      onStack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + total);
    }
    return total;
  };
  walk(cpu.nodes[0], new Set());
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { wallMs, units, modules: sorted(modules), functions: sorted(functions), inclusive: sorted(inclusive) };
}
