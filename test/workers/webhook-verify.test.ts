import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, hmac, runIdsOf } from "./trigger-support";

// The Worker secrets these triggers name are set in vitest.workers.config.ts.
const secrets = {
  standard: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  github: "It's a Secret to Everybody",
  stripe: "whsec_test_stripe_endpoint_secret",
  slack: "8f742231b10e8888abcd99yyyzzz85a5",
  hmac: "generic-hmac-secret",
};

const seconds = () => Math.floor(Date.now() / 1000);

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

interface Scheme {
  name: string;
  verify: Record<string, unknown>;
  /** Headers a genuine sender would send for `body` at `timestamp` (Unix seconds). */
  sign(body: string, timestamp: number, deliveryId: string): Promise<Record<string, string>>;
  /** Whether the scheme signs a timestamp that can go stale. */
  timestamped: boolean;
  /** Whether the delivery id travels in a header (else in the body). */
  deliveryInHeader: boolean;
}

const schemes: Scheme[] = [
  {
    name: "standard",
    verify: { scheme: "standard", secret: "STANDARD_WEBHOOK_SECRET" },
    timestamped: true,
    deliveryInHeader: true,
    async sign(body, timestamp, deliveryId) {
      const key = base64Bytes(secrets.standard.slice("whsec_".length));
      return {
        "webhook-id": deliveryId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": `v1,${await hmac(key, `${deliveryId}.${timestamp}.${body}`, "base64")}`,
      };
    },
  },
  {
    name: "github",
    verify: { scheme: "github", secret: "GITHUB_WEBHOOK_SECRET" },
    timestamped: false,
    deliveryInHeader: true,
    async sign(body, _timestamp, deliveryId) {
      return {
        "x-hub-signature-256": `sha256=${await hmac(secrets.github, body)}`,
        "x-github-delivery": deliveryId,
        "x-github-event": "push",
      };
    },
  },
  {
    name: "stripe",
    verify: { scheme: "stripe", secret: "STRIPE_WEBHOOK_SECRET" },
    timestamped: true,
    deliveryInHeader: false,
    async sign(body, timestamp) {
      return { "stripe-signature": `t=${timestamp},v1=${await hmac(secrets.stripe, `${timestamp}.${body}`)}` };
    },
  },
  {
    name: "slack",
    verify: { scheme: "slack", secret: "SLACK_SIGNING_SECRET" },
    timestamped: true,
    deliveryInHeader: false,
    async sign(body, timestamp) {
      return {
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": `v0=${await hmac(secrets.slack, `v0:${timestamp}:${body}`)}`,
      };
    },
  },
  {
    name: "hmac",
    verify: {
      scheme: "hmac",
      secret: "HMAC_WEBHOOK_SECRET",
      header: "x-acme-signature",
      prefix: "sha256=",
      timestampHeader: "x-acme-timestamp",
      idHeader: "x-acme-delivery",
    },
    timestamped: true,
    deliveryInHeader: true,
    async sign(body, timestamp, deliveryId) {
      return {
        "x-acme-signature": `sha256=${await hmac(secrets.hmac, `${timestamp}.${body}`)}`,
        "x-acme-timestamp": String(timestamp),
        "x-acme-delivery": deliveryId,
      };
    },
  },
];

interface StartBody {
  runId: string;
  status: string;
}

function hook(workflowId: string, body: string, headers: Record<string, string>, path = "") {
  return SELF.fetch(`http://signalbox.test/hooks/${workflowId}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

/** A body carrying the delivery id where the scheme's provider puts it (Stripe's `id`, Slack's `event_id`). */
function payload(scheme: Scheme, deliveryId: string, extra: Record<string, unknown> = {}): string {
  if (scheme.name === "stripe") return JSON.stringify({ id: deliveryId, object: "event", ...extra });
  if (scheme.name === "slack") return JSON.stringify({ type: "event_callback", event_id: deliveryId, ...extra });
  return JSON.stringify({ delivery: deliveryId, ...extra });
}

describe.each(schemes)("signed webhooks: $name", (scheme) => {
  const workflow = (suffix: string) => `wh-${scheme.name}-${suffix}`;
  const hooked = (id: string) => definition(id, [{ type: "webhook", verify: scheme.verify }]);

  it("starts a run for a valid signature, and the delivery id dedups a redelivery", async () => {
    const id = workflow("valid");
    await register(hooked(id));
    const body = payload(scheme, "dlv-1", { n: 1 });
    const first = await hook(id, body, await scheme.sign(body, seconds(), "dlv-1"));
    expect(first.status).toBe(202);
    const started = (await first.json()) as StartBody;
    const report = await settle(started.runId);
    expect(report.status).toBe("success");
    expect(report.input).toEqual(JSON.parse(body));
    expect(report.trigger).toMatchObject({ type: "webhook", id: "dlv-1", deliveryId: "dlv-1" });

    // The provider delivers the same event again (a retry): freshly signed, same delivery id.
    const again = scheme.deliveryInHeader ? payload(scheme, "dlv-1", { n: 2 }) : body;
    const second = await hook(id, again, await scheme.sign(again, seconds(), "dlv-1"));
    expect([second.status, await second.json()]).toEqual([
      200,
      expect.objectContaining({ runId: started.runId, status: "duplicate" }),
    ]);
    expect(await runIdsOf(id)).toEqual([started.runId]);
  });

  it("rejects a tampered body with 401 webhook.signature_invalid and starts nothing", async () => {
    const id = workflow("tampered");
    await register(hooked(id));
    const body = payload(scheme, "dlv-2");
    const headers = await scheme.sign(body, seconds(), "dlv-2");
    await expectError(await hook(id, body.replace("dlv-2", "dlv-3"), headers), 401, "webhook.signature_invalid");
    await expectError(await hook(id, `${body} `, headers), 401, "webhook.signature_invalid");
    expect(await runIdsOf(id)).toEqual([]);
  });

  it("rejects a request without a signature with 401 webhook.signature_missing", async () => {
    const id = workflow("missing");
    await register(hooked(id));
    const body = payload(scheme, "dlv-6");
    await expectError(await hook(id, body, {}), 401, "webhook.signature_missing");
    expect(await runIdsOf(id)).toEqual([]);
  });
});

describe.each(schemes.filter((scheme) => scheme.timestamped))("stale signatures: $name", (scheme) => {
  const workflow = (suffix: string) => `wh-${scheme.name}-${suffix}`;
  const hooked = (id: string) => definition(id, [{ type: "webhook", verify: scheme.verify }]);

  it("rejects an authentic but stale signature with 401 webhook.timestamp_stale", async () => {
    const id = workflow("stale");
    await register(hooked(id));
    const body = payload(scheme, "dlv-4");
    const sixMinutesAgo = seconds() - 6 * 60;
    const error = await expectError(
      await hook(id, body, await scheme.sign(body, sixMinutesAgo, "dlv-4")),
      401,
      "webhook.timestamp_stale",
    );
    expect(error.error.details).toEqual({ scheme: scheme.name });
    // Ahead of the clock by more than the tolerance is as stale as behind it.
    await expectError(
      await hook(id, body, await scheme.sign(body, seconds() + 6 * 60, "dlv-4")),
      401,
      "webhook.timestamp_stale",
    );
    expect(await runIdsOf(id)).toEqual([]);
  });
});

describe.each(schemes.filter((scheme) => !scheme.timestamped))("replays without a timestamp: $name", (scheme) => {
  const workflow = (suffix: string) => `wh-${scheme.name}-${suffix}`;
  const hooked = (id: string) => definition(id, [{ type: "webhook", verify: scheme.verify }]);

  it("signs no timestamp, so a replay is caught by its delivery id", async () => {
    const id = workflow("replay");
    await register(hooked(id));
    const body = payload(scheme, "dlv-5");
    const headers = await scheme.sign(body, 0, "dlv-5");
    const first = (await (await hook(id, body, headers)).json()) as StartBody;
    const replay = await hook(id, body, headers);
    expect([replay.status, ((await replay.json()) as StartBody).runId]).toEqual([200, first.runId]);
  });
});

describe("signed webhooks: published examples and configuration", () => {
  it("accepts GitHub's documented example delivery", async () => {
    await register(
      definition("wh-github-doc", [{ type: "webhook", verify: { scheme: "github", secret: "GITHUB_WEBHOOK_SECRET" } }]),
    );
    const response = await hook("wh-github-doc", "Hello, World!", {
      "content-type": "text/plain",
      "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    });
    expect(response.status).toBe(202);
    const report = await settle(((await response.json()) as StartBody).runId);
    expect(report.input).toBe("Hello, World!");
  });

  it("rejects Slack's and Standard Webhooks' published examples as stale: they were signed years ago", async () => {
    await register(
      definition("wh-slack-doc", [{ type: "webhook", verify: { scheme: "slack", secret: "SLACK_SIGNING_SECRET" } }]),
    );
    await expectError(
      await hook(
        "wh-slack-doc",
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": "1531420618",
          "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        },
      ),
      401,
      "webhook.timestamp_stale",
    );
    await register(
      definition("wh-standard-doc", [
        { type: "webhook", verify: { scheme: "standard", secret: "STANDARD_WEBHOOK_SECRET" } },
      ]),
    );
    await expectError(
      await hook("wh-standard-doc", '{"test": 2432232314}', {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      }),
      401,
      "webhook.timestamp_stale",
    );
    expect([...(await runIdsOf("wh-slack-doc")), ...(await runIdsOf("wh-standard-doc"))]).toEqual([]);
  });

  it("answers 401 webhook.secret_not_configured when the named secret is not set", async () => {
    await register(
      definition("wh-no-secret", [{ type: "webhook", verify: { scheme: "github", secret: "MISSING_SECRET" } }]),
    );
    const body = "{}";
    const error = await expectError(
      await hook("wh-no-secret", body, { "x-hub-signature-256": `sha256=${await hmac("anything", body)}` }),
      401,
      "webhook.secret_not_configured",
    );
    expect(error.error.message).toContain("MISSING_SECRET");
    expect(await runIdsOf("wh-no-secret")).toEqual([]);
  });

  it("rejects a verify block that names no secret, or a scheme that does not exist", async () => {
    for (const verify of [
      { scheme: "github" },
      { scheme: "github", secret: "not a name" },
      { scheme: "sha1", secret: "S" },
    ]) {
      const response = await SELF.fetch("http://signalbox.test/api/workflows", {
        method: "POST",
        headers: { authorization: "Bearer test-token", "content-type": "application/json" },
        body: JSON.stringify(definition("wh-bad-verify", [{ type: "webhook", verify }])),
      });
      await expectError(response, 422, "definition.invalid");
    }
  });
});

describe("signed webhook bodies", () => {
  const hooked = (id: string) =>
    definition(id, [{ type: "webhook", verify: { scheme: "github", secret: "GITHUB_WEBHOOK_SECRET" } }]);

  /** Bytes rather than a string, so that fetch adds no Content-Type of its own. */
  async function signed(workflowId: string, body: string, headers: Record<string, string> = {}) {
    return SELF.fetch(`http://signalbox.test/hooks/${workflowId}`, {
      method: "POST",
      headers: { "x-hub-signature-256": `sha256=${await hmac(secrets.github, body)}`, ...headers },
      body: new TextEncoder().encode(body),
    });
  }

  it.each([
    { name: "text", body: "deploy finished: ok", input: "deploy finished: ok" },
    { name: "JSON", body: '{"deploy": "ok"}', input: { deploy: "ok" } },
    { name: "text that starts like JSON", body: "{deploy: ok}", input: "{deploy: ok}" },
  ])("takes $name sent without a Content-Type as the run's input", async ({ name, body, input }) => {
    const id = `wh-untyped-${name.replaceAll(" ", "-").toLowerCase()}`;
    await register(hooked(id));
    const response = await signed(id, body);
    expect(response.status).toBe(202);
    const report = await settle(((await response.json()) as StartBody).runId);
    expect(report.input).toEqual(input);
  });

  it("answers 400 request.invalid_json for a body declared JSON that is not, and starts nothing", async () => {
    await register(hooked("wh-bad-json"));
    for (const type of ["application/json", "Application/JSON; charset=utf-8"]) {
      await expectError(
        await signed("wh-bad-json", "deploy finished: ok", { "content-type": type }),
        400,
        "request.invalid_json",
      );
    }
    expect(await runIdsOf("wh-bad-json")).toEqual([]);
  });
});

describe("webhook input mapping and schema", () => {
  const mapped = {
    type: "webhook",
    verify: { scheme: "github", secret: "GITHUB_WEBHOOK_SECRET" },
    input:
      "{ 'event': headers.'x-github-event', 'repo': body.repository.full_name, 'ref': body.ref, 'source': query.source }",
    schema: {
      type: "object",
      required: ["event", "repo"],
      properties: { event: { type: "string" }, repo: { type: "string" } },
    },
  };

  async function githubHook(workflowId: string, payloadObject: unknown, path = "") {
    const body = JSON.stringify(payloadObject);
    return hook(
      workflowId,
      body,
      {
        "x-github-event": "push",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${await hmac(secrets.github, body)}`,
      },
      path,
    );
  }

  it("maps body, headers and query into the run's input", async () => {
    await register(definition("wh-mapped", [mapped]));
    const response = await githubHook(
      "wh-mapped",
      { ref: "refs/heads/main", repository: { full_name: "acme/site" } },
      "?source=ci",
    );
    expect(response.status).toBe(202);
    const report = await settle(((await response.json()) as StartBody).runId);
    expect(report.input).toEqual({ event: "push", repo: "acme/site", ref: "refs/heads/main", source: "ci" });
  });

  it("answers 422 run.input_invalid with the errors when the mapped input fails the schema", async () => {
    await register(definition("wh-mapped-invalid", [mapped]));
    const error = await expectError(await githubHook("wh-mapped-invalid", { ref: "x" }), 422, "run.input_invalid");
    expect(error.error.details).toEqual({ errors: [expect.objectContaining({ path: "/" })] });
    expect(await runIdsOf("wh-mapped-invalid")).toEqual([]);
  });

  it("answers 422 run.input_mapping_failed when the mapping throws", async () => {
    await register(definition("wh-mapping-throws", [{ type: "webhook", input: "$error('unmappable')" }]));
    const error = await expectError(await hook("wh-mapping-throws", "{}", {}), 422, "run.input_mapping_failed");
    expect(error.error.message).toContain("unmappable");
    expect(await runIdsOf("wh-mapping-throws")).toEqual([]);
  });

  it("rejects an input mapping that is not JSONata at registration", async () => {
    const response = await SELF.fetch("http://signalbox.test/api/workflows", {
      method: "POST",
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body: JSON.stringify(definition("wh-bad-mapping", [{ type: "webhook", input: "{ 'a': " }])),
    });
    const error = await expectError(response, 422, "definition.expression_invalid");
    expect((error.error.details as { issues: { path: unknown[] }[] }).issues[0]?.path).toEqual([
      "triggers",
      0,
      "input",
    ]);
  });
});
