import { describe, expect, it } from "vitest";
import { SignalboxError } from "../../src/errors";
import { checkExpression, evaluate } from "../../src/expr/jsonata";
import { checkTemplate, renderTemplate, templateExpressions } from "../../src/expr/template";
import { deepFreeze, toJson } from "../../src/lib/json";

const frozen = () =>
  deepFreeze({
    input: { name: "Ada", age: 36, tags: ["a", "b"], items: [{ n: 3 }, { n: 1 }, { n: 2 }] },
    user: { profile: { city: "London" } },
  });

describe("evaluate", () => {
  it.each([
    ["path", "input.name", "Ada"],
    ["arithmetic", "input.age + 1", 37],
    ["nested path", "user.profile.city", "London"],
    ["array index", "input.tags[1]", "b"],
    ["mapping", "input.items.n", [3, 1, 2]],
    ["sort", "$sort(input.items, function($l, $r) { $l.n > $r.n }).n", [1, 2, 3]],
    ["object constructor", "{ 'who': input.name, 'count': $count(input.items) }", { who: "Ada", count: 3 }],
    ["merge", "$merge([input, { 'age': 1 }]).age", 1],
    ["append", "$append(input.tags, 'c')", ["a", "b", "c"]],
    ["missing path", "input.nothing", null],
  ])("%s works on a deeply frozen context", async (_name, source, expected) => {
    const context = frozen();
    expect(Object.isFrozen(context.input.items[0])).toBe(true);
    // JSONata marks result sequences with extra own properties; compare the JSON they store as.
    expect(toJson(await evaluate(source, context))).toEqual(expected);
  });

  it.each([
    ["type error", "input.name + 1"],
    ["$error", "$error('boom')"],
    ["unknown function", "$nope()"],
    ["syntax error", "input.name +"],
  ])("turns a %s into node.expression_failed", async (_name, source) => {
    const thrown = await evaluate(source, frozen()).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(SignalboxError);
    expect((thrown as SignalboxError).data).toMatchObject({ code: "node.expression_failed", retryable: false });
    expect((thrown as SignalboxError).data.message).toContain(JSON.stringify(source));
  });
});

describe("the sequence limit", () => {
  const failure = (source: string) =>
    evaluate(source, {}).then(
      () => undefined,
      (thrown: SignalboxError) => thrown.data.message,
    );

  it("allows a range of exactly 100,000 items", async () => {
    expect(await evaluate("$count([1..100000])", {})).toBe(100_000);
  });

  it.each([
    ["one over the limit", "[1..100001]", 100_001],
    ["twice the limit", "[1..200000]", 200_000],
    ["over JSONata's own range cap", "[1..20000000]", 20_000_000],
    ["built by $append", "$append([1..60000], [1..60000])", 120_000],
  ])("states the limit that applies for a sequence %s", async (_name, source, size) => {
    expect(await failure(source)).toBe(
      `expression ${JSON.stringify(source)} failed: a sequence of ${size} items is over the limit of 100000 items`,
    );
  });
});

describe("checkExpression", () => {
  it("accepts valid expressions", () => {
    expect(checkExpression("input.items[n > 1].n")).toBeUndefined();
  });

  it.each([
    ["a +", /Unexpected end of expression/, 3],
    ["$foo(", /Expected "\)"/, 5],
    ["[1, 2", /Expected "\]"/, 5],
  ])("reports the parse error in %j", (source, message, position) => {
    const problem = checkExpression(source);
    expect(problem?.message).toMatch(message);
    expect(problem?.position).toBe(position);
  });

  it("rejects an empty expression", () => {
    expect(checkExpression("   ")).toEqual({ message: "expression is empty" });
  });
});

describe("templates", () => {
  it.each([
    ["no placeholders", "plain text", "plain text"],
    ["string", "Hello {{ input.name }}!", "Hello Ada!"],
    ["number", "age={{input.age}}", "age=36"],
    ["boolean", "{{ input.age > 18 }}", "true"],
    ["array", "tags: {{ input.tags }}", 'tags: ["a","b"]'],
    ["object", "{{ user.profile }}", '{"city":"London"}'],
    ["missing value", "[{{ input.nothing }}]", "[]"],
    ["several", "{{ input.name }}/{{ input.age }}/{{ input.tags[0] }}", "Ada/36/a"],
    ["multi-line expression", "{{ input.name\n & '!' }}", "Ada!"],
  ])("interpolates %s", async (_name, template, expected) => {
    expect(await renderTemplate(template, frozen())).toBe(expected);
  });

  it("propagates evaluation failures as node.expression_failed", async () => {
    await expect(renderTemplate("x {{ $error('no') }}", frozen())).rejects.toMatchObject({
      data: { code: "node.expression_failed" },
    });
  });

  it("lists the expressions of a template", () => {
    expect(templateExpressions("a {{ x }} b {{y.z}} {{}}")).toEqual(["x", "y.z"]);
  });

  it("checks every placeholder", () => {
    expect(checkTemplate("no placeholders")).toBeUndefined();
    expect(checkTemplate("{{ a }} and {{ b.c }}")).toBeUndefined();
    expect(checkTemplate("{{ a }} and {{ b + }}")?.message).toMatch(/Unexpected end of expression/);
    expect(checkTemplate("{{ }}")).toEqual({ message: "expression is empty" });
  });
});
