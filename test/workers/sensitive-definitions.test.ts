import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { token } from "./helpers";
import { expectError } from "./support";

const marked = {
  id: "sensitive-keys-check",
  name: "Sensitive keys check",
  sensitive: { input: ["card.number"] },
  nodes: [{ id: "say", type: "log", config: { message: "hi" } }],
};

async function registerWith(dataKeys: string | undefined, definition: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request("http://signalbox.test/api/workflows", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(definition),
  });
  const response = await worker.fetch(request, { ...env, DATA_KEYS: dataKeys }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function storedVersions(workflowId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM workflow_versions WHERE workflow_id = ?")
    .bind(workflowId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("registering a workflow that marks sensitive data", () => {
  it.each([
    [undefined, /DATA_KEYS is not set/],
    ["{not json", /DATA_KEYS is not JSON/],
    [
      JSON.stringify({ current: "k9", keys: { k1: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=" } }),
      /current key "k9"/,
    ],
  ])("without a usable DATA_KEYS (%s) is 422 naming the secret, and nothing is stored", async (keys, problem) => {
    const body = await expectError(await registerWith(keys, marked), 422, "definition.data_keys_missing");
    const issue = (body.error.details as { issues: { code: string; path: unknown[]; message: string }[] }).issues[0];
    expect(issue?.code).toBe("definition.data_keys_missing");
    expect(issue?.path).toEqual(["sensitive"]);
    expect(issue?.message).toMatch(problem);
    expect(issue?.message).toMatch(/wrangler secret put DATA_KEYS/);
    expect(await storedVersions(marked.id)).toBe(0);
  });

  it("a mark inside a map's inline body needs DATA_KEYS too", async () => {
    const nested = {
      id: "sensitive-keys-nested",
      name: "Nested mark",
      nodes: [
        {
          id: "each",
          type: "map",
          config: {
            items: "input.items",
            body: { nodes: [{ id: "tag", type: "transform", sensitive: "output", config: { set: { t: "input" } } }] },
            output: "tags",
          },
        },
      ],
    };
    await expectError(await registerWith(undefined, nested), 422, "definition.data_keys_missing");
    expect(await storedVersions(nested.id)).toBe(0);
    expect((await registerWith(env.DATA_KEYS, nested)).status).toBe(201);
  });

  it("a workflow that marks nothing registers without DATA_KEYS; one that does, with it", async () => {
    const plain = { ...marked, id: "sensitive-keys-plain", sensitive: undefined };
    expect((await registerWith(undefined, plain)).status).toBe(201);
    expect((await registerWith(env.DATA_KEYS, marked)).status).toBe(201);
  });

  it("a mark on a key nothing writes is 422 with its path", async () => {
    const body = await expectError(
      await registerWith(env.DATA_KEYS, { ...marked, id: "sensitive-unwritten", sensitive: { context: ["ssn"] } }),
      422,
      "definition.sensitive_unwritten",
    );
    expect(body.error.details).toMatchObject({
      issues: [{ code: "definition.sensitive_unwritten", path: ["sensitive", "context", 0] }],
    });
  });
});
