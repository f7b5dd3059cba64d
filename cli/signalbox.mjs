#!/usr/bin/env node
// The `signalbox` command. It runs the TypeScript in cli/ directly (through tsx), so a clone
// needs no build step, and shares src/definition's validation with the server.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `signalbox: needs Node 22.12 or later (this is ${process.version}): run it as \`npx signalbox\` from the clone, which uses the Node in node_modules\n`,
  );
  process.exit(1);
}
const { tsImport } = await import("tsx/esm/api");
const { main } = await tsImport("./main.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
