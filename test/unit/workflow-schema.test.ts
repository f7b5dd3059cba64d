import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Schema, Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { validateDefinition } from "../../src/definition/validate";
import { hashJson } from "../../src/lib/hash";
import { workflowJsonSchema } from "../../src/routes/workflow-schema";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "workflows"))
  .filter((name) => name.endsWith(".json"))
  .map((name) => ({ name, document: JSON.parse(readFileSync(join(root, "workflows", name), "utf8")) as unknown }));

function validator() {
  return new Validator(workflowJsonSchema() as Schema, "2020-12", false);
}

describe("the workflow JSON Schema", () => {
  it("is checked in as generated: run `npm run schema` after changing the definition schema", () => {
    const checkedIn = JSON.parse(readFileSync(join(root, "schema", "workflow.json"), "utf8")) as unknown;
    expect(checkedIn).toEqual(workflowJsonSchema());
  });

  it("accepts every example workflow, each of which names it in $schema", () => {
    expect(examples.length).toBeGreaterThan(0);
    for (const { name, document } of examples) {
      expect((document as { $schema?: string }).$schema, name).toBe("../schema/workflow.json");
      const result = validator().validate(document);
      expect(result.errors, name).toEqual([]);
    }
  });

  it("checks each node's config by its type, and the document's own fields", () => {
    const node = { id: "get", type: "http", config: { method: "POST", url: 42 } };
    const wrongConfig = validator().validate({ id: "w", name: "w", nodes: [node] });
    expect(wrongConfig.valid).toBe(false);
    expect(wrongConfig.errors.map((error) => error.instanceLocation)).toContain("#/nodes/0/config/url");

    const unknownKey = validator().validate({
      id: "w",
      name: "w",
      nodes: [{ id: "a", type: "log", config: { message: "hi" } }],
      colour: "red",
    });
    expect(unknownKey.valid).toBe(false);
    const unknownType = validator().validate({ id: "w", name: "w", nodes: [{ id: "a", type: "teleport" }] });
    expect(unknownType.valid).toBe(false);
  });
});

describe("email size limits", () => {
  const withSize = (maxBytes: unknown) => ({
    id: "w",
    name: "w",
    triggers: [{ type: "email", address: "invoices@example.com", maxBytes }],
    nodes: [{ id: "a", type: "log", config: { message: "hi" } }],
  });

  it("the JSON Schema and registration agree on sizes in any case, and on what is not a size", () => {
    for (const size of ["10MiB", "512kib", "5 MB", "64KiB", "100b", "1.5GiB", 65536]) {
      expect(validator().validate(withSize(size)).valid, String(size)).toBe(true);
      expect(validateDefinition(withSize(size)).ok, String(size)).toBe(true);
    }
    for (const size of ["10 MiBs", "ten", "5iB", "MiB", 0]) {
      expect(validator().validate(withSize(size)).valid, String(size)).toBe(false);
      expect(validateDefinition(withSize(size)).ok, String(size)).toBe(false);
    }
  });
});

describe("$schema in a definition", () => {
  it("is accepted and left out of the stored definition, so it never makes a new version", async () => {
    const plain = { id: "w", name: "w", nodes: [{ id: "a", type: "log", config: { message: "hi" } }] };
    const withSchema = { $schema: "../schema/workflow.json", ...plain };
    const [a, b] = [validateDefinition(plain), validateDefinition(withSchema)];
    if (!a.ok || !b.ok) throw new Error("expected both to validate");
    expect(b.definition).not.toHaveProperty("$schema");
    expect(await hashJson(b.definition)).toBe(await hashJson(a.definition));
  });
});
