import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateApiTypes } from "../../tools/api-types/generate.mjs";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const read = (path: string) => readFile(join(root, path), "utf8");

describe("cli/api-types.ts", () => {
  it("is what openapi-typescript generates from schema/openapi.json", async () => {
    const document = JSON.parse(await read("schema/openapi.json")) as object;
    // Stale after the document changed: `npm run api-types` writes it again.
    expect(await read("cli/api-types.ts"), "cli/api-types.ts is stale: run npm run api-types").toBe(
      await generateApiTypes(document),
    );
  });

  it("types the routes the command line calls, with their bodies and answers", async () => {
    const types = await read("cli/api-types.ts");
    for (const path of ["/api/workflows", "/api/workflows/{id}/runs", "/api/runs/{runId}/replay", "/api/events"]) {
      expect(types).toContain(`"${path}": {`);
    }
    expect(types).toMatch(/fromNode: string;/);
    expect(types).toMatch(/idempotencyKey\?: string;/);
  });
});
