// `npm run schema`: writes schema/workflow.json, the JSON Schema of workflow files, from the
// zod schemas the server validates with. test/unit/workflow-schema.test.ts fails when it is stale.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";
import { projectRoot } from "./lib/wrangler.mjs";

const { workflowJsonSchema } = await tsImport("../src/routes/workflow-schema.ts", import.meta.url);
const path = join(projectRoot, "schema", "workflow.json");
await mkdir(join(projectRoot, "schema"), { recursive: true });
await writeFile(path, `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path}`);
