import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { approvalWorkflow, linkFor, openLink, origin, pathOf } from "./human-helpers";
import { countRuns, expectError } from "./support";

function definition(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [{ id: "a", type: "transform", config: { set: { x: "1" } } }],
    edges: [],
    ...extra,
  };
}

describe("authentication", () => {
  it("rejects /api requests without a token", async () => {
    const response = await SELF.fetch("http://signalbox.test/api/workflows");
    await expectError(response, 401, "auth.missing_token");
  });

  it("rejects /api requests with a wrong token", async () => {
    const response = await api("/api/workflows", { headers: { authorization: "Bearer nope" } });
    await expectError(response, 401, "auth.invalid_token");
  });

  it("lets webhooks in without a token", async () => {
    await register(definition("errors-open-hook", { triggers: [{ type: "webhook" }] }));
    const response = await SELF.fetch("http://signalbox.test/hooks/errors-open-hook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { runId: string; status: string };
    expect(body.status).toBe("queued");
    expect((await settle(body.runId)).status).toBe("success");
  });
});

describe("malformed requests", () => {
  it("answers invalid JSON with 400", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    await expectError(response, 400, "request.invalid_json");
  });

  it("answers a body over 1 MiB with 413", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ padding: "x".repeat(1024 * 1024 + 1) }),
    });
    await expectError(response, 413, "request.too_large");
  });

  it("answers unknown routes with 404", async () => {
    await expectError(await api("/api/nothing-here"), 404, "route.not_found");
    await expectError(await SELF.fetch("http://signalbox.test/nowhere"), 404, "route.not_found");
  });
});

describe("bodies a route cannot parse", () => {
  // Routes that read a JSON body (RUN stands for a finished run's id), each sent bodies that
  // cannot be read as JSON, whatever their Content-Type claims.
  const routes = [
    "/api/workflows",
    "/api/workflows/errors-bodies/runs",
    "/api/workflows/errors-bodies/test",
    "/api/events",
    "/api/runs/bulk",
    "/api/runs/RUN/retry",
    "/api/runs/RUN/replay",
    "/api/runs/RUN/pause",
    "/api/runs/RUN/events/poke",
    "/api/dead-letters/RUN/requeue",
  ];
  const bodies = [
    { type: "application/json", body: "{ not json" },
    { type: "application/json", body: '{"a": 1} trailing' },
    { type: "multipart/form-data", body: "--x\r\nnot a form" },
  ];
  let runId = "";

  beforeAll(async () => {
    await register(definition("errors-bodies"));
    await register(definition("errors-bodies-hook", { triggers: [{ type: "webhook" }] }));
    runId = await startManual("errors-bodies");
    expect((await settle(runId)).status).toBe("success");
  });

  it.each(routes)("POST %s answers 400 request.invalid_json", async (route) => {
    const path = route.replace("RUN", runId);
    for (const { type, body } of bodies) {
      const response = await api(path, { method: "POST", headers: { "content-type": type }, body });
      await expectError(response, 400, "request.invalid_json");
    }
  });

  it("a webhook answers a body declared JSON that is not with 400 request.invalid_json", async () => {
    // Other Content-Types are taken as text (webhook-verify.test.ts): only a JSON claim must hold.
    for (const { body } of bodies.filter((entry) => entry.type === "application/json")) {
      const response = await SELF.fetch("http://signalbox.test/hooks/errors-bodies-hook", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await expectError(response, 400, "request.invalid_json");
    }
    expect(await countRuns("errors-bodies-hook")).toBe(0);
  });

  describe("an approval link", () => {
    let link = "";
    let approvalRun = "";
    const post = (body: string, headers: Record<string, string>) =>
      SELF.fetch(`${origin}${pathOf(link)}`, { method: "POST", headers: { origin, ...headers }, body });
    /** The link is still pending and its audit trail ends with the refused body. */
    async function expectUnharmed() {
      expect((await openLink(link)).status).toBe(200);
      const audit = await env.DB.prepare("SELECT outcome FROM approval_audit WHERE run_id = ? ORDER BY id")
        .bind(approvalRun)
        .all<{ outcome: string }>();
      expect(audit.results.at(-1)?.outcome).toBe("unreadable");
    }

    beforeAll(async () => {
      await register(approvalWorkflow("errors-approval"));
      approvalRun = await startManual("errors-approval", { item: "a desk", amount: 90 });
      expect((await settle(approvalRun)).status).toBe("needs_review");
      link = await linkFor(approvalRun, "ann@example.com");
    });

    it.each([
      { name: "a multipart form without a boundary", type: "multipart/form-data", body: "decision=approve" },
      {
        name: "a multipart form whose parts do not match its boundary",
        type: "multipart/form-data; boundary=abc",
        body: '--xyz\r\nContent-Disposition: form-data; name="decision"\r\n\r\napprove\r\n--xyz--\r\n',
      },
    ])("answers $name with the 400 page", async ({ type, body }) => {
      const response = await post(body, { "content-type": type });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('data-error-code="request.invalid_body"');
      await expectUnharmed();
    });

    it.each([
      { name: "JSON that does not parse", body: "{ decision: approve" },
      { name: "an empty body", body: "" },
    ])("answers $name with 400 request.invalid_json", async ({ body }) => {
      await expectError(await post(body, { "content-type": "application/json" }), 400, "request.invalid_json");
      await expectUnharmed();
    });
  });
});

describe("registering a bad definition", () => {
  const cases = [
    {
      name: "a cycle",
      code: "definition.cycle",
      path: ["edges", 1],
      def: definition("bad-cycle", {
        nodes: [
          { id: "a", type: "transform", config: { set: { x: "1" } } },
          { id: "b", type: "transform", config: { set: { y: "2" } } },
        ],
        edges: [
          { from: "a", to: "b" },
          { from: "b", to: "a" },
        ],
      }),
    },
    {
      name: "an edge to an unknown node",
      code: "definition.unknown_node",
      path: ["edges", 0, "to"],
      def: definition("bad-edge", { edges: [{ from: "a", to: "ghost" }] }),
    },
    {
      name: "an invalid JSONata expression",
      code: "definition.expression_invalid",
      path: ["nodes", 0, "config", "set", "x"],
      def: definition("bad-jsonata", { nodes: [{ id: "a", type: "transform", config: { set: { x: "1 +" } } }] }),
    },
    {
      name: "a branch to a node it has no edge to",
      code: "definition.branch_target",
      path: ["nodes", 0, "config", "cases", 0, "to"],
      def: definition("bad-branch", {
        nodes: [
          { id: "route", type: "branch", config: { cases: [{ when: "true", to: "c" }], default: "b" } },
          { id: "b", type: "transform", config: { set: { y: "2" } } },
          { id: "c", type: "transform", config: { set: { z: "3" } } },
        ],
        edges: [{ from: "route", to: "b" }],
      }),
    },
    {
      name: "parallel nodes writing the same context key",
      code: "definition.write_conflict",
      path: ["nodes", 2, "config", "set", "total"],
      def: definition("bad-writes", {
        nodes: [
          { id: "a", type: "transform", config: { set: { x: "1" } } },
          { id: "b", type: "transform", config: { set: { total: "1" } } },
          { id: "c", type: "transform", config: { set: { total: "2" } } },
        ],
        edges: [
          { from: "a", to: "b" },
          { from: "a", to: "c" },
        ],
      }),
    },
  ];

  for (const entry of cases) {
    it(`rejects ${entry.name} with 422 ${entry.code} and writes nothing`, async () => {
      const response = await api("/api/workflows", { method: "POST", json: entry.def });
      const body = await expectError(response, 422, entry.code);
      const issues = (body.error.details as { issues: { code: string; path: unknown[] }[] }).issues;
      expect(issues).toContainEqual(expect.objectContaining({ code: entry.code, path: entry.path }));
      await expectError(await api(`/api/workflows/${entry.def.id}`), 404, "workflow.not_found");
    });
  }
});

describe("lookups that find nothing", () => {
  it("answers an unknown workflow and an unknown version with 404", async () => {
    await expectError(await api("/api/workflows/never-registered"), 404, "workflow.not_found");
    await register(definition("errors-versioned"));
    await expectError(await api("/api/workflows/errors-versioned?version=9"), 404, "workflow.version_not_found");
    await expectError(await api("/api/workflows/errors-versioned?version=zero"), 400, "request.invalid");
  });

  it("rejects bad run list parameters with 400", async () => {
    for (const query of ["limit=0", "limit=201", "limit=abc", "status=sleeping", "cursor=%%%"]) {
      await expectError(await api(`/api/runs?${query}`), 400, "request.invalid");
    }
  });

  it("answers malformed and unknown run ids with 404", async () => {
    for (const runId of ["nope", "run_short", `run_${"0".repeat(26)}`]) {
      await expectError(await api(`/api/runs/${runId}`), 404, "run.not_found");
      await expectError(await api(`/api/runs/${runId}/context`), 404, "run.not_found");
      await expectError(await api(`/api/runs/${runId}/cancel`, { method: "POST" }), 404, "run.not_found");
    }
  });
});

describe("numeric query parameters", () => {
  // Each is a valid request with `=1` (RUN stands for a finished run's id); only plain decimal
  // digits may stand for a number.
  const parameters = [
    { name: "version", url: "/api/workflows/errors-numeric?version=" },
    { name: "version", url: "/api/runs/RUN/context?version=" },
    { name: "from", url: "/api/runs/RUN/context/diff?from=" },
    { name: "to", url: "/api/runs/RUN/context/diff?to=" },
    { name: "limit", url: "/api/runs?limit=" },
    { name: "limit", url: "/api/outbox?limit=" },
    { name: "limit", url: "/api/dead-letters?limit=" },
  ];
  const malformed = ["", "0x1", "1e0", "%201", "%2B1", "1.0", "-1", "1%20", "9".repeat(20)];
  let runId = "";

  beforeAll(async () => {
    await register(definition("errors-numeric"));
    runId = await startManual("errors-numeric");
    expect((await settle(runId)).status).toBe("success");
  });

  it.each(parameters)("$name in $url refuses anything but plain digits with 400", async ({ name, url }) => {
    const path = url.replace("RUN", runId);
    expect((await api(`${path}1`)).status).toBe(200);
    for (const value of malformed) {
      const body = await expectError(await api(`${path}${value}`), 400, "request.invalid");
      expect(body.error.details, `${name}=${value}`).toEqual({ parameter: name, value: decodeURIComponent(value) });
      expect(body.error.message).toMatch(new RegExp(`^${name} must be `));
    }
  });
});

describe("run operations that do not apply", () => {
  it("answers a context version out of range with 404 and a finished run's cancel with 409", async () => {
    await register(definition("errors-finished"));
    const runId = await startManual("errors-finished");
    const report = await settle(runId);
    expect(report.status).toBe("success");
    const beyond = report.contextVersion + 1;
    await expectError(await api(`/api/runs/${runId}/context?version=${beyond}`), 404, "run.context_version_not_found");
    await expectError(await api(`/api/runs/${runId}/context?version=-1`), 400, "request.invalid");
    await expectError(await api(`/api/runs/${runId}/cancel`, { method: "POST" }), 409, "run.not_active");
  });

  it("rejects manual input that fails the trigger's schema, creating no run", async () => {
    const schema = { type: "object", required: ["name"], properties: { name: { type: "string" } } };
    await register(definition("errors-schema", { triggers: [{ type: "manual", schema }] }));
    const response = await api("/api/workflows/errors-schema/runs", { method: "POST", json: { input: { name: 7 } } });
    const body = await expectError(response, 422, "run.input_invalid");
    const errors = (body.error.details as { errors: { path: string; message: string }[] }).errors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((error) => error.path)).toContain("/name");
    expect(await countRuns("errors-schema")).toBe(0);
  });

  it("answers a webhook to a workflow without a webhook trigger with 404", async () => {
    await register(definition("errors-no-hook"));
    const response = await SELF.fetch("http://signalbox.test/hooks/errors-no-hook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await expectError(response, 404, "trigger.not_found");
    await expectError(
      await SELF.fetch("http://signalbox.test/hooks/errors-unknown", { method: "POST", body: "{}" }),
      404,
      "workflow.not_found",
    );
  });
});
