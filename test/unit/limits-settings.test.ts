import { describe, expect, it } from "vitest";
import { httpLimitName, parseLimitSettings } from "../../src/limits/settings";

describe("limit settings", () => {
  it("reads provider limits from LLM_PROVIDERS and named, host and provider limits from LIMITS", () => {
    const settings = parseLimitSettings({
      LLM_PROVIDERS: JSON.stringify({
        fast: { type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", limits: { requestsPerMinute: 30 } },
        plain: { type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1" },
      }),
      LIMITS: JSON.stringify({
        pager: { requestsPerMinute: 10, circuit: { failureRate: 0.25, coolDown: "2m" } },
        "http:API.example.com:8443": { circuit: {} },
        "llm:default": { tokensPerMinute: 40_000 },
        // LLM_PROVIDERS' own limits for a provider come first.
        "llm:fast": { requestsPerMinute: 1 },
      }),
    });
    expect(settings.problem).toBeUndefined();
    expect(Object.fromEntries(settings.limits)).toEqual({
      "llm:fast": { requestsPerMinute: 30 },
      pager: {
        requestsPerMinute: 10,
        circuit: { failureRate: 0.25, minimumCalls: 5, windowMs: 60_000, coolDownMs: 120_000 },
      },
      "http:api.example.com:8443": {
        circuit: { failureRate: 0.5, minimumCalls: 5, windowMs: 60_000, coolDownMs: 30_000 },
      },
      "llm:default": { tokensPerMinute: 40_000 },
    });
  });

  it("has nothing to say when neither var is set", () => {
    expect(parseLimitSettings({})).toEqual({ limits: new Map() });
  });

  it.each([
    [{ LIMITS: "{nope" }, /^LIMITS is not JSON/],
    [{ LIMITS: "[]" }, /^LIMITS: expected an object/],
    [{ LIMITS: JSON.stringify({ pager: {} }) }, /^LIMITS\.pager: set requestsPerMinute or circuit/],
    [{ LIMITS: JSON.stringify({ pager: { tokensPerMinute: 5 } }) }, /^LIMITS\.pager: Unrecognized key/],
    [{ LIMITS: JSON.stringify({ pager: { requestsPerMinute: -1 } }) }, /^LIMITS\.pager\.requestsPerMinute:/],
    [{ LIMITS: JSON.stringify({ pager: { circuit: { failureRate: 2 } } }) }, /^LIMITS\.pager\.circuit\.failureRate:/],
    [{ LIMITS: JSON.stringify({ pager: { circuit: { coolDown: "soon" } } }) }, /^LIMITS\.pager\.circuit\.coolDown:/],
    [{ LIMITS: JSON.stringify({ "http:/x": { circuit: {} } }) }, /expected http:<host>/],
    [{ LIMITS: JSON.stringify({ "9lives": { circuit: {} } }) }, /^LIMITS\.9lives: expected a limit name/],
    [
      { LLM_PROVIDERS: JSON.stringify({ p: { type: "openai-compatible", limits: { requestsPerMinute: "many" } } }) },
      /^LLM_PROVIDERS\.p\.limits\.requestsPerMinute:/,
    ],
  ])("reports what is wrong with %j", (vars, problem) => {
    expect(parseLimitSettings(vars).problem).toMatch(problem);
  });

  it("names an http call's limit by the node's `limit`, else by its host and port", () => {
    expect(httpLimitName(new URL("https://Api.Example.com/x"), undefined)).toBe("http:api.example.com");
    expect(httpLimitName(new URL("http://127.0.0.1:8080/x"), undefined)).toBe("http:127.0.0.1:8080");
    expect(httpLimitName(new URL("http://127.0.0.1:8080/x"), "pager")).toBe("pager");
  });
});
