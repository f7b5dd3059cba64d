import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { WebhookVerify } from "../../src/definition/schema";
import { verifyWebhook } from "../../src/triggers/verify";

const bytes = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
const seconds = (ms: number) => Math.floor(ms / 1000);

/** Signs with Node's own HMAC, independent of the code under test. */
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data);

function verify(scheme: WebhookVerify, headers: Record<string, string>, body: string, now: number, secret?: string) {
  const secrets = secret === undefined ? {} : { [scheme.secret]: secret };
  return verifyWebhook(scheme, { headers: new Headers(headers), body: bytes(body), now }, secrets);
}

// ---- Standard Webhooks -----------------------------------------------------------------------

/** The example in the Standard Webhooks reference libraries' tests. */
const standard = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const standardScheme: WebhookVerify = { scheme: "standard", secret: "STANDARD_SECRET" };
const standardHeaders = (overrides: Record<string, string> = {}) => ({
  "webhook-id": standard.id,
  "webhook-timestamp": String(standard.timestamp),
  "webhook-signature": standard.signature,
  ...overrides,
});
const atStandard = standard.timestamp * 1000 + 10_000;

function signStandard(id: string, timestamp: number, body: string): string {
  const key = Buffer.from(standard.secret.slice("whsec_".length), "base64");
  return `v1,${hmac(key, `${id}.${timestamp}.${body}`).digest("base64")}`;
}

describe("Standard Webhooks", () => {
  it("accepts the published example and returns webhook-id as the delivery id", async () => {
    expect(await verify(standardScheme, standardHeaders(), standard.body, atStandard, standard.secret)).toEqual({
      ok: true,
      deliveryId: standard.id,
    });
  });

  it("accepts the secret without its whsec_ prefix", async () => {
    const result = await verify(standardScheme, standardHeaders(), standard.body, atStandard, standard.secret.slice(6));
    expect(result.ok).toBe(true);
  });

  it("accepts any matching v1 entry among several", async () => {
    const signature = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc ${standard.signature}`;
    const result = await verify(
      standardScheme,
      standardHeaders({ "webhook-signature": signature }),
      standard.body,
      atStandard,
      standard.secret,
    );
    expect(result.ok).toBe(true);
  });

  it("rejects a tampered body, id or signature", async () => {
    for (const [headers, body] of [
      [standardHeaders(), '{"test": 2432232315}'],
      [standardHeaders({ "webhook-id": "msg_other" }), standard.body],
      [standardHeaders({ "webhook-signature": "v1,dawfeoifkpqwoekfpqoekf" }), standard.body],
      [standardHeaders({ "webhook-signature": standard.signature.slice(0, 8) }), standard.body],
      [standardHeaders({ "webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" }), standard.body],
      [standardHeaders({ "webhook-timestamp": "hello" }), standard.body],
    ] as const) {
      expect(await verify(standardScheme, headers, body, atStandard, standard.secret)).toMatchObject({
        ok: false,
        code: "webhook.signature_invalid",
      });
    }
  });

  it("rejects a signature older or newer than the tolerance (5 minutes by default)", async () => {
    const stale = { ok: false, code: "webhook.timestamp_stale" };
    const headers = standardHeaders();
    expect(
      await verify(standardScheme, headers, standard.body, atStandard + 5 * 60_000, standard.secret),
    ).toMatchObject(stale);
    expect(
      await verify(standardScheme, headers, standard.body, standard.timestamp * 1000 - 301_000, standard.secret),
    ).toMatchObject(stale);
    // The published example dates from 2021: verified today, it is authentic but stale.
    expect(await verify(standardScheme, headers, standard.body, Date.now(), standard.secret)).toMatchObject(stale);
  });

  it("honours a trigger's own tolerance", async () => {
    const scheme: WebhookVerify = { ...standardScheme, tolerance: "1h" } as WebhookVerify;
    const result = await verify(scheme, standardHeaders(), standard.body, atStandard + 30 * 60_000, standard.secret);
    expect(result.ok).toBe(true);
  });

  it("verifies a fresh signature made by an independent signer", async () => {
    const now = Date.now();
    const body = JSON.stringify({ type: "invoice.paid" });
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(seconds(now)) };
    const result = await verify(
      standardScheme,
      { ...headers, "webhook-signature": signStandard("msg_1", seconds(now), body) },
      body,
      now,
      standard.secret,
    );
    expect(result).toEqual({ ok: true, deliveryId: "msg_1" });
  });

  it("reports missing headers", async () => {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const headers: Record<string, string> = standardHeaders();
      delete headers[name];
      expect(await verify(standardScheme, headers, standard.body, atStandard, standard.secret)).toMatchObject({
        ok: false,
        code: "webhook.signature_missing",
      });
    }
  });
});

// ---- GitHub ----------------------------------------------------------------------------------

/** GitHub's documented test values ("Validating webhook deliveries"). */
const github = {
  secret: "It's a Secret to Everybody",
  body: "Hello, World!",
  signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
};
const githubScheme: WebhookVerify = { scheme: "github", secret: "GH_SECRET" };

describe("GitHub", () => {
  it("accepts GitHub's published example with X-GitHub-Delivery as the delivery id", async () => {
    const headers = { "x-hub-signature-256": github.signature, "x-github-delivery": "72d3162e-cc78" };
    expect(await verify(githubScheme, headers, github.body, Date.now(), github.secret)).toEqual({
      ok: true,
      deliveryId: "72d3162e-cc78",
    });
  });

  it("rejects a tampered body, a wrong secret, an uppercase or short digest, another algorithm", async () => {
    const invalid = { ok: false, code: "webhook.signature_invalid" };
    const headers = { "x-hub-signature-256": github.signature };
    expect(await verify(githubScheme, headers, "Hello, World?", Date.now(), github.secret)).toMatchObject(invalid);
    expect(await verify(githubScheme, headers, github.body, Date.now(), "not the secret")).toMatchObject(invalid);
    for (const signature of ["sha256=abc", `sha1=${github.signature.slice(7)}`, github.signature.slice(7)]) {
      expect(
        await verify(githubScheme, { "x-hub-signature-256": signature }, github.body, Date.now(), github.secret),
      ).toMatchObject(invalid);
    }
  });

  it("reports a missing signature", async () => {
    expect(await verify(githubScheme, {}, github.body, Date.now(), github.secret)).toMatchObject({
      ok: false,
      code: "webhook.signature_missing",
    });
  });
});

// ---- Stripe ----------------------------------------------------------------------------------

const stripeSecret = "whsec_test_stripe_endpoint_secret";
const stripeScheme: WebhookVerify = { scheme: "stripe", secret: "STRIPE_SECRET" };
const stripeBody = JSON.stringify({ id: "evt_1NqR9vLkdIwHu7ix", object: "event", type: "invoice.paid" });
/** Stripe publishes no secret and payload to test with; Node's HMAC signs in its documented format. */
const signStripe = (timestamp: number, body: string, secret = stripeSecret) =>
  hmac(secret, `${timestamp}.${body}`).digest("hex");

describe("Stripe", () => {
  it("accepts t= and v1= and returns the event id as the delivery id", async () => {
    const now = Date.now();
    const t = seconds(now);
    const header = `t=${t},v1=${signStripe(t, stripeBody)},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`;
    expect(await verify(stripeScheme, { "stripe-signature": header }, stripeBody, now, stripeSecret)).toEqual({
      ok: true,
      deliveryId: "evt_1NqR9vLkdIwHu7ix",
    });
  });

  it("accepts the second v1 while a secret rolls", async () => {
    const now = Date.now();
    const t = seconds(now);
    const header = `t=${t},v1=${signStripe(t, stripeBody, "whsec_old")},v1=${signStripe(t, stripeBody)}`;
    expect((await verify(stripeScheme, { "stripe-signature": header }, stripeBody, now, stripeSecret)).ok).toBe(true);
  });

  it("rejects Stripe's documented header (signed with a secret we do not have) and tampering", async () => {
    const invalid = { ok: false, code: "webhook.signature_invalid" };
    const documented =
      "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
    expect(
      await verify(stripeScheme, { "stripe-signature": documented }, stripeBody, 1492774577_000, stripeSecret),
    ).toMatchObject(invalid);
    const now = Date.now();
    const t = seconds(now);
    const good = signStripe(t, stripeBody);
    for (const header of [
      `t=${t},v1=${good}`.replace(String(t), String(t + 1)),
      `t=${t},v0=${good}`,
      `v1=${good}`,
      `t=${t}`,
    ]) {
      expect(await verify(stripeScheme, { "stripe-signature": header }, stripeBody, now, stripeSecret)).toMatchObject(
        invalid,
      );
    }
    expect(
      await verify(stripeScheme, { "stripe-signature": `t=${t},v1=${good}` }, `${stripeBody} `, now, stripeSecret),
    ).toMatchObject(invalid);
  });

  it("rejects an authentic but stale signature", async () => {
    const now = Date.now();
    const t = seconds(now) - 301;
    const header = `t=${t},v1=${signStripe(t, stripeBody)}`;
    expect(await verify(stripeScheme, { "stripe-signature": header }, stripeBody, now, stripeSecret)).toMatchObject({
      ok: false,
      code: "webhook.timestamp_stale",
    });
  });

  it("reports a missing header", async () => {
    expect(await verify(stripeScheme, {}, stripeBody, Date.now(), stripeSecret)).toMatchObject({
      code: "webhook.signature_missing",
    });
  });
});

// ---- Slack -----------------------------------------------------------------------------------

/** The worked example in Slack's "Verifying requests from Slack". */
const slack = {
  secret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: "1531420618",
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};
const slackScheme: WebhookVerify = { scheme: "slack", secret: "SLACK_SECRET" };
const slackHeaders = (overrides: Record<string, string> = {}) => ({
  "x-slack-signature": slack.signature,
  "x-slack-request-timestamp": slack.timestamp,
  ...overrides,
});
const atSlack = Number(slack.timestamp) * 1000 + 60_000;

describe("Slack", () => {
  it("accepts Slack's worked example", async () => {
    expect(await verify(slackScheme, slackHeaders(), slack.body, atSlack, slack.secret)).toEqual({
      ok: true,
      deliveryId: undefined,
    });
  });

  it("uses an Events API event_id as the delivery id", async () => {
    const now = Date.now();
    const body = JSON.stringify({ type: "event_callback", event_id: "Ev08MFMKH6" });
    const signature = `v0=${hmac(slack.secret, `v0:${seconds(now)}:${body}`).digest("hex")}`;
    const headers = slackHeaders({ "x-slack-signature": signature, "x-slack-request-timestamp": String(seconds(now)) });
    expect(await verify(slackScheme, headers, body, now, slack.secret)).toEqual({ ok: true, deliveryId: "Ev08MFMKH6" });
  });

  it("rejects tampering and reports the example as stale today", async () => {
    expect(
      await verify(slackScheme, slackHeaders(), slack.body.replace("foobar", "foobaz"), atSlack, slack.secret),
    ).toMatchObject({ code: "webhook.signature_invalid" });
    expect(
      await verify(
        slackScheme,
        slackHeaders({ "x-slack-request-timestamp": "1531420619" }),
        slack.body,
        atSlack,
        slack.secret,
      ),
    ).toMatchObject({ code: "webhook.signature_invalid" });
    expect(await verify(slackScheme, slackHeaders(), slack.body, Date.now(), slack.secret)).toMatchObject({
      code: "webhook.timestamp_stale",
    });
  });

  it("reports missing headers", async () => {
    for (const header of ["x-slack-signature", "x-slack-request-timestamp"]) {
      const headers: Record<string, string> = slackHeaders();
      delete headers[header];
      expect(await verify(slackScheme, headers, slack.body, atSlack, slack.secret)).toMatchObject({
        code: "webhook.signature_missing",
      });
    }
  });
});

// ---- generic HMAC ----------------------------------------------------------------------------

describe("generic HMAC-SHA256 header", () => {
  const secret = "generic-hmac-secret";
  const body = '{"order":42}';

  it("checks a hex digest in x-signature by default", async () => {
    const scheme: WebhookVerify = { scheme: "hmac", secret: "HMAC_SECRET" };
    const good = hmac(secret, body).digest("hex");
    expect((await verify(scheme, { "x-signature": good }, body, Date.now(), secret)).ok).toBe(true);
    expect(await verify(scheme, { "x-signature": good }, '{"order":43}', Date.now(), secret)).toMatchObject({
      code: "webhook.signature_invalid",
    });
    expect(await verify(scheme, {}, body, Date.now(), secret)).toMatchObject({ code: "webhook.signature_missing" });
  });

  it("takes a header, prefix, base64 and a delivery id header", async () => {
    const scheme: WebhookVerify = {
      scheme: "hmac",
      secret: "HMAC_SECRET",
      header: "X-Shop-Hmac",
      encoding: "base64",
      prefix: "sha256=",
      idHeader: "X-Shop-Delivery",
    };
    const good = `sha256=${hmac(secret, body).digest("base64")}`;
    expect(await verify(scheme, { "x-shop-hmac": good, "x-shop-delivery": "d-1" }, body, Date.now(), secret)).toEqual({
      ok: true,
      deliveryId: "d-1",
    });
    expect(await verify(scheme, { "x-shop-hmac": good.slice(7) }, body, Date.now(), secret)).toMatchObject({
      code: "webhook.signature_invalid",
    });
  });

  it("signs <timestamp>.<body> when a timestamp header is named, and checks its age", async () => {
    const scheme: WebhookVerify = { scheme: "hmac", secret: "HMAC_SECRET", timestampHeader: "x-timestamp" };
    const now = Date.now();
    const sign = (t: number) => hmac(secret, `${t}.${body}`).digest("hex");
    const fresh = { "x-signature": sign(seconds(now)), "x-timestamp": String(seconds(now)) };
    expect((await verify(scheme, fresh, body, now, secret)).ok).toBe(true);
    const old = seconds(now) - 600;
    expect(
      await verify(scheme, { "x-signature": sign(old), "x-timestamp": String(old) }, body, now, secret),
    ).toMatchObject({ code: "webhook.timestamp_stale" });
    expect(await verify(scheme, { "x-signature": sign(seconds(now)) }, body, now, secret)).toMatchObject({
      code: "webhook.signature_missing",
    });
  });
});

describe("secrets", () => {
  it("reports a secret that is not set", async () => {
    expect(
      await verify(githubScheme, { "x-hub-signature-256": github.signature }, github.body, Date.now()),
    ).toMatchObject({
      ok: false,
      code: "webhook.secret_not_configured",
      message: expect.stringContaining("GH_SECRET"),
    });
  });

  it("reports a Standard Webhooks secret that is not base64", async () => {
    expect(
      await verify(standardScheme, standardHeaders(), standard.body, atStandard, "whsec_not base64!"),
    ).toMatchObject({
      code: "webhook.secret_not_configured",
    });
  });
});
