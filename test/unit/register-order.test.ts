import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calledWorkflows, readWorkflowFiles, registrationOrder } from "../../scripts/lib/register.mjs";
import { projectRoot } from "../../scripts/lib/wrangler.mjs";

const workflow = (id: string, nodes: unknown[] = []) => ({ file: `${id}.json`, definition: { id, nodes } });
const calling = (id: string, ...called: string[]) =>
  workflow(
    id,
    called.map((target, index) => ({ id: `call${index}`, type: "subworkflow", config: { workflow: target } })),
  );
const files = (entries: { file: string }[]) => entries.map((entry) => entry.file);

describe("calledWorkflows", () => {
  it("finds subworkflow steps, map and loop bodies naming a workflow, and calls inside inline bodies", () => {
    const definition = {
      id: "outer",
      nodes: [
        { id: "sub", type: "subworkflow", config: { workflow: "a", output: "x" } },
        { id: "each", type: "map", config: { items: "input", body: { workflow: "b", version: 2 } } },
        {
          id: "again",
          type: "loop",
          config: {
            body: { nodes: [{ id: "inner", type: "map", config: { body: { workflow: "c" } } }] },
            until: "true",
          },
        },
        { id: "plain", type: "transform", config: { set: { workflow: "'not a call'" } } },
      ],
    };
    expect([...calledWorkflows(definition)]).toEqual(["a", "b", "c"]);
  });
});

describe("registrationOrder", () => {
  it("puts a workflow after the ones it calls and keeps file order otherwise", () => {
    const entries = [workflow("alpha"), calling("many", "one"), workflow("one"), calling("top", "many", "outside")];
    expect(files(registrationOrder(entries))).toEqual(["alpha.json", "one.json", "many.json", "top.json"]);
    expect(entries.every((entry) => !("error" in entry))).toBe(true);
  });

  it("orders the examples so greet-one is registered before greet-many", async () => {
    const ordered = files(registrationOrder(await readWorkflowFiles(join(projectRoot, "workflows"))));
    expect(ordered.indexOf("greet-one.json")).toBeLessThan(ordered.indexOf("greet-many.json"));
  });

  it("names the cycle on every workflow in it, and still lists them", () => {
    const entries = [calling("a", "b"), calling("b", "c"), calling("c", "a"), calling("d", "a")];
    const ordered = registrationOrder(entries);
    expect(files(ordered).sort()).toEqual(["a.json", "b.json", "c.json", "d.json"]);
    const errors = Object.fromEntries(ordered.map((entry) => [entry.file, (entry as { error?: string }).error]));
    expect(errors).toEqual({
      "a.json": "workflows call each other in a cycle: a -> b -> c -> a",
      "b.json": "workflows call each other in a cycle: a -> b -> c -> a",
      "c.json": "workflows call each other in a cycle: a -> b -> c -> a",
      "d.json": undefined,
    });
  });
});
