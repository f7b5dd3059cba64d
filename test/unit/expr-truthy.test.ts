import { describe, expect, it } from "vitest";
import { evaluate, truthy } from "../../src/expr/jsonata";

/** The one truthiness that branch cases, event matches, loop ends, trigger filters and test asserts share. */
describe("truthy", () => {
  it.each<[string, unknown, boolean]>([
    ["true", true, true],
    ["false", false, false],
    ["zero", 0, false],
    ["a number", 3, true],
    ["the empty string", "", false],
    ["a string", "no", true],
    ["null", null, false],
    ["undefined (a missing path)", undefined, false],
    ["the empty object", {}, false],
    ["an object with a key", { a: 0 }, true],
    ["the empty array", [], false],
    ["an array of falsy values", [0, "", false, {}], false],
    ["an array with one truthy value", [0, [false, 1]], true],
  ])("%s is %s, as $boolean() sees it", async (_name, value, expected) => {
    expect(truthy(value)).toBe(expected);
    expect(await evaluate("$boolean(v)", { v: value ?? null })).toBe(value === undefined ? false : expected);
  });
});
