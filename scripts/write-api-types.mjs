// `npm run api-types`: asks a local `wrangler dev` for its OpenAPI document (built from the routes'
// own specs) and writes it to schema/openapi.json, then the client types generated from it to
// cli/api-types.ts. test/workers/openapi.test.ts fails when the first is stale,
// test/unit/cli-api-types.test.ts when the second is.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateApiTypes } from "../tools/api-types/generate.mjs";
import { probePort, projectRoot, waitForHealth, wranglerBin, wranglerEnv } from "./lib/wrangler.mjs";

const port = await probePort(0);
const baseUrl = `http://127.0.0.1:${port}`;
const token = randomBytes(16).toString("hex");
// Its own state, so a running dev server's database is neither read nor touched.
const persistTo = await mkdtemp(join(tmpdir(), "signalbox-openapi-"));
const wrangler = spawn(
  wranglerBin,
  ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistTo, "--var", `API_TOKEN:${token}`],
  { cwd: projectRoot, env: wranglerEnv(), stdio: "ignore", detached: true },
);
let exited;
wrangler.on("exit", (code, signal) => {
  exited = signal ?? code;
});

let document;
try {
  await waitForHealth(baseUrl, { exited: () => exited });
  const response = await fetch(`${baseUrl}/api/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /api/openapi.json answered ${response.status}: ${await response.text()}`);
  document = await response.json();
} finally {
  // wrangler, esbuild and workerd share the group started above.
  if (exited === undefined) process.kill(-wrangler.pid, "SIGKILL");
  await rm(persistTo, { recursive: true, force: true });
}

const documentPath = join(projectRoot, "schema", "openapi.json");
await writeFile(documentPath, `${JSON.stringify(document, null, 2)}\n`);
console.log(`wrote ${documentPath}`);
const typesPath = join(projectRoot, "cli", "api-types.ts");
await writeFile(typesPath, await generateApiTypes(document));
console.log(`wrote ${typesPath}`);
