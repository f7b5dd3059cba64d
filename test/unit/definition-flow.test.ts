import { describe, expect, it } from "vitest";
import { validateDefinition } from "../../src/definition/validate";
import { type Doc, edit, issuesOf, reference } from "./definition-fixture";

const withFlow = (flow: Doc) => edit((d) => Object.assign(d, { flow }));

describe("validateDefinition: flow", () => {
  it("takes every part with keys and priority as JSONata", () => {
    const flow = {
      concurrency: [{ limit: 2, key: "input.customer", holdWhileWaiting: true }, { limit: 50 }],
      throttle: { limit: 10, period: "1m", burst: 3, key: "input.customer" },
      rateLimit: { limit: 100, period: "1h" },
      priority: "input.tier = 'gold' ? 10 : 0",
    };
    const result = validateDefinition(withFlow(flow));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.definition.flow).toEqual(flow);
    expect(validateDefinition(withFlow({ singleton: { key: "input.id", mode: "cancel" } })).ok).toBe(true);
    const debounce = { debounce: { period: "5s", key: "input.customer", maxWait: "1m" }, concurrency: [{ limit: 1 }] };
    expect(validateDefinition(withFlow(debounce)).ok).toBe(true);
    expect(issuesOf(withFlow({ debounce: { period: "5s", key: "input.(" } })).map((issue) => issue.path)).toEqual([
      ["flow", "debounce", "key"],
    ]);
  });

  it.each([
    ["a limit under 1", { concurrency: [{ limit: 0 }] }, [["definition.invalid", ["flow", "concurrency", 0, "limit"]]]],
    [
      "a fractional limit",
      { rateLimit: { limit: 1.5, period: "1s" } },
      [["definition.invalid", ["flow", "rateLimit", "limit"]]],
    ],
    ["no concurrency entries", { concurrency: [] }, [["definition.invalid", ["flow", "concurrency"]]]],
    [
      "a period that is not a duration",
      { throttle: { limit: 1, period: "soon" } },
      [["definition.invalid", ["flow", "throttle", "period"]]],
    ],
    [
      "a zero period",
      { rateLimit: { limit: 1, period: "0s" } },
      [["definition.invalid", ["flow", "rateLimit", "period"]]],
    ],
    [
      "a bad maxWait",
      { debounce: { period: "1s", maxWait: "1 week" } },
      [["definition.invalid", ["flow", "debounce", "maxWait"]]],
    ],
    [
      "maxWait under the period",
      { debounce: { period: "1m", maxWait: "5s" } },
      [["definition.invalid", ["flow", "debounce", "maxWait"]]],
    ],
    [
      "a concurrency key that does not compile",
      { concurrency: [{ limit: 1, key: "input.(" }] },
      [["definition.expression_invalid", ["flow", "concurrency", 0, "key"]]],
    ],
    [
      "a priority that does not compile",
      { priority: "1 +" },
      [["definition.expression_invalid", ["flow", "priority"]]],
    ],
    [
      "debounce and singleton together",
      { debounce: { period: "1s" }, singleton: { mode: "skip" } },
      [["definition.invalid", ["flow", "singleton"]]],
    ],
    [
      "an unknown singleton mode",
      { singleton: { mode: "queue" } },
      [["definition.invalid", ["flow", "singleton", "mode"]]],
    ],
    ["an unknown part", { fairness: true }, [["definition.invalid", ["flow"]]]],
  ])("refuses %s with its path", (_name, flow, expected) => {
    const issues = issuesOf(withFlow(flow as Doc)).map((issue) => [issue.code, issue.path]);
    expect(issues).toEqual(expected);
  });

  it("checks a flow without a valid rest of the definition", () => {
    const doc = reference();
    doc.nodes = "none";
    doc.flow = { priority: "(" };
    const result = validateDefinition(doc);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.path)).toContainEqual(["flow", "priority"]);
  });
});
