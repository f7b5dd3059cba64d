import { describe, expect, it } from "vitest";
import { csrfOf, page, signIn } from "./dashboard-support";
import { api, register, settle } from "./helpers";

const greeter = {
  id: "dash-greeter",
  name: "Dashboard greeter",
  triggers: [
    {
      type: "manual",
      schema: {
        type: "object",
        properties: { name: { type: "string", maxLength: 10 } },
        required: ["name"],
        examples: [{ name: "Ada" }],
      },
    },
    { type: "webhook" },
  ],
  nodes: [
    { id: "greet", type: "transform", config: { set: { greeting: "'Hello, ' & input.name" } } },
    { id: "log", type: "log", config: { message: "{{ greeting }}" } },
  ],
  edges: [{ from: "greet", to: "log" }],
};

describe("the workflows pages", () => {
  it("says how to register the first workflow when there is none", async () => {
    const cookie = await signIn();
    const html = await (await page("/ui/workflows", { cookie })).text();
    expect(html).toContain("No workflows yet");
  });

  it("lists workflows and shows one with its graph, triggers, versions and the example input", async () => {
    await register(greeter);
    await register({ ...greeter, name: "Dashboard greeter, second version" });
    const cookie = await signIn();
    const list = await (await page("/ui/workflows", { cookie })).text();
    expect(list).toContain('<tr data-workflow-id="dash-greeter">');
    expect(list).toContain('data-enabled="true"');
    expect(list).toContain("manual, webhook");

    const detail = await (await page("/ui/workflows/dash-greeter", { cookie })).text();
    expect([...detail.matchAll(/data-node-id="([^"]+)"/g)].map((match) => match[1])).toEqual(["greet", "log"]);
    expect(detail).toContain("POST http://signalbox.test/hooks/dash-greeter");
    expect(detail).toContain("POST http://signalbox.test/api/workflows/dash-greeter/runs");
    expect([...detail.matchAll(/<tr data-version="(\d+)"/g)].map((match) => match[1])).toEqual(["2", "1"]);
    expect(detail).toContain("&quot;name&quot;: &quot;Ada&quot;");
    expect(await (await page("/ui/workflows/dash-greeter?version=1", { cookie })).text()).toContain("Graph of v1");
    const diff = await (await page("/ui/workflows/dash-greeter?from=1&to=2", { cookie })).text();
    expect(diff).toContain('data-diff="1-2"');
    expect(
      [...diff.matchAll(/<tr class="(\w+)" data-op="\w+"><td>\w+<\/td><td><code>([^<]+)<\/code>/g)].map((m) => [
        m[1],
        m[2],
      ]),
    ).toEqual([["replace", "/name"]]);
  });

  it("starts a run from the form, refusing input that is not JSON or not what the schema asks", async () => {
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const notJson = await page("/ui/workflows/dash-greeter/runs", { cookie, form: { csrf, input: "{name:" } });
    expect(notJson.status).toBe(422);
    expect(await notJson.text()).toContain("not valid JSON");
    const wrong = await page("/ui/workflows/dash-greeter/runs", {
      cookie,
      form: { csrf, input: '{"name": "far too long a name"}' },
    });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain('role="alert"');
    const before = ((await (await api("/api/runs?workflow=dash-greeter")).json()) as { runs: unknown[] }).runs;
    expect(before).toEqual([]);

    const started = await page("/ui/workflows/dash-greeter/runs", { cookie, form: { csrf, input: '{"name": "Lin"}' } });
    expect(started.status).toBe(303);
    const runId = /^\/ui\/runs\/(run_\w+)$/.exec(started.headers.get("location") ?? "")?.[1] ?? "";
    expect((await settle(runId)).context.greeting).toBe("Hello, Lin");
  });

  it("disables and enables a workflow from its page", async () => {
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const disabled = await page("/ui/workflows/dash-greeter/disable", { cookie, form: { csrf } });
    expect(disabled.status).toBe(303);
    const shown = await (await page(disabled.headers.get("location") ?? "", { cookie })).text();
    expect(shown).toContain("The workflow is disabled.");
    expect(shown).toContain('data-enabled="false"');
    const refused = await page("/ui/workflows/dash-greeter/runs", { cookie, form: { csrf, input: '{"name": "Bo"}' } });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("disabled");
    const workflow = (await (await api("/api/workflows/dash-greeter")).json()) as { enabled: boolean };
    expect(workflow.enabled).toBe(false);
    expect((await page("/ui/workflows/dash-greeter/enable", { cookie, form: { csrf } })).status).toBe(303);
    expect(((await (await api("/api/workflows/dash-greeter")).json()) as { enabled: boolean }).enabled).toBe(true);
    expect((await page("/ui/workflows/dash-greeter/disable", { cookie, form: { csrf: "x" } })).status).toBe(403);
  });

  it.each(["nope", "%3Cscript%3E", "x".repeat(300)])("answers the unknown workflow %s with a 404 page", async (id) => {
    const cookie = await signIn();
    const response = await page(`/ui/workflows/${id}`, { cookie });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Workflow not found");
  });

  it.each(["version=999", "version=-1", "version=abc", "did=%00", "version=1e3", "from=1&to=999", "from=x&to=2"])(
    "answers ?%s without a server error",
    async (query) => {
      const cookie = await signIn();
      expect((await page(`/ui/workflows/dash-greeter?${query}`, { cookie })).status).toBe(200);
    },
  );

  it("dry-runs with mocks and runs the test cases, recording nothing", async () => {
    await register({
      ...greeter,
      id: "dash-tested",
      tests: [
        { name: "greets Ada", input: { name: "Ada" }, expect: { context: { greeting: "Hello, Ada" } } },
        { name: "expects too much", input: { name: "Bo" }, expect: { context: { greeting: "Hi" } } },
      ],
    });
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const shown = await (await page("/ui/workflows/dash-tested", { cookie })).text();
    expect(shown).toContain("Run the 2 test cases");
    expect(shown).toContain("&quot;input&quot;: {\n    &quot;name&quot;: &quot;Ada&quot;");

    const dry = await page("/ui/workflows/dash-tested/test", {
      cookie,
      form: {
        csrf,
        mode: "dry-run",
        request: '{"input": {"name": "Lin"}, "mocks": {"greet": {"output": {"greeting": "mocked"}}}}',
      },
    });
    expect(dry.status).toBe(200);
    const html = await dry.text();
    expect(html).toContain('data-dry-run="success"');
    expect(html).toContain("&quot;greeting&quot;: &quot;mocked&quot;");

    const tests = await (
      await page("/ui/workflows/dash-tested/test", { cookie, form: { csrf, mode: "tests" } })
    ).text();
    expect([...tests.matchAll(/data-test="([^"]+)" data-passed="(\w+)"/g)].map((m) => [m[1], m[2]])).toEqual([
      ["greets Ada", "true"],
      ["expects too much", "false"],
    ]);

    const bad = await page("/ui/workflows/dash-tested/test", { cookie, form: { csrf, mode: "dry-run", request: "{" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("not valid JSON");
    const badMock = await page("/ui/workflows/dash-tested/test", {
      cookie,
      form: { csrf, mode: "dry-run", request: '{"mocks": {"nope": {"output": {}}}}' },
    });
    expect(badMock.status).toBe(422);
    const runs = (await (await api("/api/runs?workflow=dash-tested")).json()) as { runs: unknown[] };
    expect(runs.runs).toEqual([]);
  });
});
