import { describe, expect, it } from "vitest";
import { issuesOf, valid } from "./definition-fixture";

/** A workflow of transforms writing the given keys, joined by the given edges. */
function writers(nodes: Record<string, string[]>, edges: [string, string][], extra: unknown[] = []) {
  return {
    id: "conflicts",
    name: "conflicts",
    nodes: [
      ...Object.entries(nodes).map(([id, keys]) => ({
        id,
        type: "transform",
        config: { set: Object.fromEntries(keys.map((key) => [key, "1"])) },
      })),
      ...extra,
    ],
    edges: edges.map(([from, to]) => ({ from, to })),
  };
}

describe("write conflicts at registration", () => {
  it("rejects parallel nodes that write the same key, naming both and pointing at the second", () => {
    const issues = issuesOf(
      writers({ start: ["s"], left: ["total", "l"], right: ["total"], join: ["j"] }, [
        ["start", "left"],
        ["start", "right"],
        ["left", "join"],
        ["right", "join"],
      ]),
    );
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual([
      ["definition.write_conflict", ["nodes", 2, "config", "set", "total"]],
    ]);
    expect(issues[0]?.message).toMatch(/"left" and "right" may run at the same time and both write "total"/);
  });

  it("rejects two entry nodes writing the same key (they start together)", () => {
    const codes = issuesOf(writers({ a: ["x"], b: ["x"] }, [])).map((issue) => issue.code);
    expect(codes).toEqual(["definition.write_conflict"]);
  });

  it("accepts the same key written in sequence, since the later write sees the earlier one", () => {
    valid(
      writers({ a: ["x"], b: ["y"], c: ["x"] }, [
        ["a", "b"],
        ["b", "c"],
      ]),
    );
  });

  it("accepts the same key on the two arms of a branch, which never both run", () => {
    valid(
      writers(
        { start: ["s"], yes: ["answer"], no: ["answer"], after: ["done"] },
        [
          ["start", "route"],
          ["route", "yes"],
          ["route", "no"],
          ["yes", "after"],
          ["no", "after"],
        ],
        [{ id: "route", type: "branch", config: { cases: [{ when: "input.ok", to: "yes" }], default: "no" } }],
      ),
    );
  });

  it("still rejects a branch arm against a node beside the branch", () => {
    const issues = issuesOf(
      writers(
        { start: ["s"], yes: ["answer"], no: ["n"], side: ["answer"] },
        [
          ["start", "route"],
          ["start", "side"],
          ["route", "yes"],
          ["route", "no"],
        ],
        [{ id: "route", type: "branch", config: { cases: [{ when: "input.ok", to: "yes" }], default: "no" } }],
      ),
    );
    expect(issues.map((issue) => issue.code)).toEqual(["definition.write_conflict"]);
    expect(issues[0]?.message).toMatch(/"yes" and "side"/);
  });

  it("accepts the same key on an event's arrival path and its timeout path", () => {
    valid(
      writers(
        { arrived: ["outcome"], timedOut: ["outcome"] },
        [
          ["hold", "arrived"],
          ["hold", "timedOut"],
        ],
        [{ id: "hold", type: "wait", config: { event: "paid", timeout: "1h", timeoutTo: "timedOut" } }],
      ),
    );
  });

  it("rejects parallel http nodes writing one output key", () => {
    const http = (id: string) => ({
      id,
      type: "http",
      config: { method: "GET", url: "http://127.0.0.1:1/", output: "response" },
    });
    const issues = issuesOf({ id: "h", name: "h", nodes: [http("a"), http("b")], edges: [] });
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual([
      ["definition.write_conflict", ["nodes", 1, "config", "output"]],
    ]);
  });
});
