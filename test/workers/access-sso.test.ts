import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { createApp } from "../../src/routes/app";
import { api, register } from "./helpers";
import { expectError, testServer } from "./support";

const audience = "aud-signalbox-test";
const app = createApp();
let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
let otherKeys: { privateKey: CryptoKey; publicKey: CryptoKey };

/** The Worker's env with Access pointed at the test server, which serves the team's keys. */
function accessEnv(extra: Partial<Env> = {}): Env {
  return {
    ...(env as unknown as Env),
    ACCESS_TEAM_DOMAIN: testServer.url,
    ACCESS_AUD: audience,
    ACCESS_ROLES: JSON.stringify({
      admin: ["ann@example.com"],
      operator: ["group:on-call"],
      viewer: ["*@example.com"],
    }),
    ...extra,
  };
}

function send(path: string, token: string, init: RequestInit = {}, extra: Partial<Env> = {}) {
  const headers = new Headers(init.headers);
  headers.set("cf-access-jwt-assertion", token);
  headers.set("cf-connecting-ip", "198.51.100.4");
  return app.fetch(
    new Request(`http://signalbox.test${path}`, { ...init, headers, redirect: "manual" }),
    accessEnv(extra),
  );
}

async function sign(
  claims: JWTPayload,
  options: { key?: CryptoKey; aud?: string; expiresIn?: string | number; kid?: string } = {},
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "team-key-1" })
    .setIssuer(testServer.url)
    .setAudience(options.aud ?? audience)
    .setIssuedAt()
    .setSubject(`sub-${String(claims.email)}`)
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(options.key ?? keys.privateKey);
}

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

describe("Cloudflare Access", () => {
  beforeAll(async () => {
    keys = (await generateKeyPair("RS256", { extractable: true })) as typeof keys;
    otherKeys = (await generateKeyPair("RS256", { extractable: true })) as typeof otherKeys;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: "team-key-1", alg: "RS256", use: "sig" };
    const certs = { status: 200, body: { keys: [jwk] } };
    await testServer.script(
      "/cdn-cgi/access/certs",
      Array.from({ length: 10 }, () => certs),
    );
  });

  it("lets a verified person in with the role ACCESS_ROLES gives their email or group, and audits them", async () => {
    const ann = await sign({ email: "Ann@example.com" });
    const list = await send("/api/workflows", ann);
    expect(list.status).toBe(200);
    const changed = await send("/api/workflows/sso-none/disable", ann, { method: "POST" });
    await expectError(changed, 404, "workflow.not_found");
    const trail = (await (await api("/api/audit?actor=ann@example.com")).json()) as {
      entries: { actor: unknown; action: string; ip: string }[];
    };
    expect(trail.entries[0]).toMatchObject({
      actor: { kind: "access", id: "ann@example.com", name: "ann@example.com" },
      action: "POST /api/workflows/:id/disable",
      ip: "198.51.100.4",
    });

    // A group maps to operator; anyone else at the domain is a viewer, who may not act.
    const bob = await sign({ email: "bob@example.com", groups: ["on-call"] });
    expect((await send("/api/outbox", bob)).status).toBe(200);
    const carol = await sign({ email: "carol@example.com" });
    expect((await send("/api/runs", carol)).status).toBe(200);
    const refused = await expectError(await send("/api/outbox", carol), 403, "auth.forbidden");
    expect(refused.error.details).toMatchObject({ permission: "outbox.read", role: "viewer" });
    await expectError(await send("/api/runs", await sign({ email: "eve@elsewhere.test" })), 403, "auth.access_no_role");
  });

  it("refuses wrong audience, expired, unsigned, other-key and malformed tokens with their own codes", async () => {
    const wrongAudience = await sign({ email: "ann@example.com" }, { aud: "another-app" });
    await expectError(await send("/api/runs", wrongAudience), 401, "auth.access_audience");
    const expired = await sign({ email: "ann@example.com" }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    await expectError(await send("/api/runs", expired), 401, "auth.access_expired");
    const unsigned = `${base64url({ alg: "none", typ: "JWT" })}.${base64url({
      email: "ann@example.com",
      aud: audience,
      iss: testServer.url,
      exp: Math.floor(Date.now() / 1000) + 600,
    })}.`;
    await expectError(await send("/api/runs", unsigned), 401, "auth.access_unsigned");
    const forged = await sign({ email: "ann@example.com" }, { key: otherKeys.privateKey });
    await expectError(await send("/api/runs", forged), 401, "auth.access_signature");
    await expectError(await send("/api/runs", "not-a-jwt"), 401, "auth.access_malformed");
    const trail = (await (await api("/api/audit?action=GET%20/api/runs")).json()) as { entries: { code: string }[] };
    expect(trail.entries.map((entry) => entry.code)).toEqual(
      expect.arrayContaining([
        "auth.access_audience",
        "auth.access_expired",
        "auth.access_unsigned",
        "auth.access_signature",
      ]),
    );
  });

  it("needs a whole configuration, and is ignored where it is not set up", async () => {
    const ann = await sign({ email: "ann@example.com" });
    await expectError(await send("/api/runs", ann, {}, { ACCESS_ROLES: "{admin" }), 401, "auth.access_not_configured");
    await expectError(
      await send("/api/runs", ann, {}, { ACCESS_ROLES: JSON.stringify({ root: ["*"] }) }),
      401,
      "auth.access_not_configured",
    );
    await expectError(await send("/api/runs", ann, {}, { ACCESS_AUD: "" }), 401, "auth.access_not_configured");
    // The Worker as configured for the other tests has no Access: the header alone is nobody.
    await expectError(
      await api("/api/runs", { headers: { authorization: "", "cf-access-jwt-assertion": ann } }),
      401,
      "auth.missing_token",
    );
  });

  it("signs people in to the dashboard with no login page, forms included", async () => {
    const bob = await sign({ email: "bob@example.com", groups: ["on-call"] });
    const runs = await send("/ui/runs", bob);
    expect(runs.status).toBe(200);
    const html = await runs.text();
    const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1] ?? "";
    expect(csrf).not.toBe("");
    await register({ id: "sso-wf", name: "SSO", nodes: [{ id: "a", type: "transform", config: { set: { x: "1" } } }] });
    const started = await send("/ui/workflows/sso-wf/runs", bob, {
      method: "POST",
      body: new URLSearchParams({ csrf, input: "{}" }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://signalbox.test" },
    });
    expect(started.status).toBe(303);
    const trail = (await (await api("/api/audit?workflow=sso-wf&actor=bob@example.com")).json()) as {
      entries: { actor: { kind: string }; status: number }[];
    };
    expect(trail.entries[0]).toMatchObject({ actor: { kind: "session:access" }, status: 303 });
    // A viewer's form is refused with the permission it lacks, and a bad token gets no page.
    const carol = await sign({ email: "carol@example.com" });
    const carolPage = await (await send("/ui/runs", carol)).text();
    const carolCsrf = /name="csrf" value="([0-9a-f]{64})"/.exec(carolPage)?.[1] ?? "";
    const viewerForm = await send("/ui/workflows/sso-wf/runs", carol, {
      method: "POST",
      body: new URLSearchParams({ csrf: carolCsrf, input: "{}" }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://signalbox.test" },
    });
    expect(viewerForm.status).toBe(403);
    const expired = await sign({ email: "bob@example.com" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const refused = await send("/ui/runs", expired);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("expired");
  });
});
