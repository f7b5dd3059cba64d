import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";

/** What the postinstall script prints when npm runs it on a machine with that Node. */
function noteFor(userAgent: string): string {
  return execFileSync(process.execPath, [join(projectRoot, "scripts", "node-version-note.mjs")], {
    env: { ...process.env, npm_config_user_agent: userAgent },
    encoding: "utf8",
  });
}

describe("npm install on the machine's Node", () => {
  it("runs the note after every install and says which Node it wants", () => {
    const manifest = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
    expect(manifest.scripts.postinstall).toBe("node scripts/node-version-note.mjs");
    expect(manifest.engines).toEqual({ node: ">=20" });
  });

  it("on Node 20, says the npm scripts run on the Node 22 in node_modules", () => {
    const note = noteFor("npm/11.19.1 node/v20.20.2 linux x64 workspaces/false");
    expect(note).toContain("This machine has Node v20.20.2");
    expect(note).toContain(`run on the Node ${process.versions.node} installed in node_modules`);
    expect(note).toContain("EBADENGINE");
  });

  it("on Node 22 or newer, prints nothing: npm had nothing to warn about", () => {
    expect(noteFor("npm/11.19.1 node/v22.23.3 linux x64 workspaces/false")).toBe("");
    expect(noteFor("npm/11.19.1 node/v24.1.0 linux x64 workspaces/false")).toBe("");
    expect(noteFor("")).toBe("");
  });
});
