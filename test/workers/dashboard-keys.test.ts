import { serializeSigned } from "hono/utils/cookie";
import { describe, expect, it } from "vitest";
import { asKey, makeKey, setExpiry } from "./access-support";
import { cookiePair, page } from "./dashboard-support";
import { api, register, settle, startManual, token } from "./helpers";

const definition = {
  id: "dash-keys",
  name: "Dashboard keys",
  triggers: [{ type: "manual" }],
  nodes: [{ id: "a", type: "transform", config: { set: { done: "true" } } }],
  edges: [],
};

async function signInWith(key: string): Promise<Response> {
  return page("/ui/login", { form: { token: key, next: "/ui/runs" } });
}

async function csrfOf(cookie: string): Promise<string> {
  const html = await (await page("/ui/workflows", { cookie })).text();
  const match = /name="csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match?.[1]) throw new Error("no csrf token on the page");
  return match[1];
}

describe("signing in to the dashboard with an API key", () => {
  it("lets a viewer read pages and refuses its actions with 403, changing nothing", async () => {
    await register(definition);
    const viewer = await makeKey({ name: "auditor", role: "viewer" });
    const signed = await signInWith(viewer.key);
    expect(signed.status).toBe(303);
    const cookie = cookiePair(signed.headers.get("set-cookie"));
    expect((await page("/ui/runs", { cookie })).status).toBe(200);
    expect((await page("/ui/workflows/dash-keys", { cookie })).status).toBe(200);
    const csrf = await csrfOf(cookie);

    const before = (await (await api("/api/runs?workflow=dash-keys")).json()) as { runs: unknown[] };
    const start = await page("/ui/workflows/dash-keys/runs", { cookie, form: { csrf, input: "{}" } });
    expect(start.status).toBe(403);
    expect(await start.text()).toContain("runs.start");
    const after = (await (await api("/api/runs?workflow=dash-keys")).json()) as { runs: unknown[] };
    expect(after.runs).toHaveLength(before.runs.length);

    const disable = await page("/ui/workflows/dash-keys/disable", { cookie, form: { csrf } });
    expect(disable.status).toBe(403);
    expect(await disable.text()).toContain("workflows.write");
    const workflow = (await (await api("/api/workflows/dash-keys")).json()) as { enabled: boolean };
    expect(workflow.enabled).toBe(true);

    const runId = await startManual("dash-keys");
    await settle(runId);
    const retry = await page(`/ui/runs/${runId}/actions/retry`, { cookie, form: { csrf } });
    expect(retry.status).toBe(403);
    expect(await retry.text()).toContain("runs.act");
  });

  it("lets an operator act on runs but not disable a workflow", async () => {
    const operator = await makeKey({ name: "on-call", role: "operator" });
    const cookie = cookiePair((await signInWith(operator.key)).headers.get("set-cookie"));
    const csrf = await csrfOf(cookie);
    const started = await page("/ui/workflows/dash-keys/runs", { cookie, form: { csrf, input: "{}" } });
    expect(started.status).toBe(303);
    const disable = await page("/ui/workflows/dash-keys/disable", { cookie, form: { csrf } });
    expect(disable.status).toBe(403);
  });

  it("ends a key's session when the key is revoked or expires, and refuses such keys at sign-in", async () => {
    const revoked = await makeKey({ name: "leaving", role: "operator" });
    const cookie = cookiePair((await signInWith(revoked.key)).headers.get("set-cookie"));
    expect((await page("/ui/runs", { cookie })).status).toBe(200);
    expect((await api(`/api/keys/${revoked.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await page("/ui/runs", { cookie })).status).toBe(303);
    const again = await signInWith(revoked.key);
    expect(again.status).toBe(401);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await again.text()).toContain("revoked");

    const expiring = await makeKey({ name: "temp", role: "viewer", expiresIn: "1h" });
    const temp = cookiePair((await signInWith(expiring.key)).headers.get("set-cookie"));
    expect((await page("/ui/runs", { cookie: temp })).status).toBe(200);
    await setExpiry(expiring.id, Date.now() - 1);
    const ended = await page("/ui/runs", { cookie: temp });
    expect(ended.status).toBe(303);
    expect(await (await page(ended.headers.get("location") ?? "", { cookie: temp })).text()).toContain(
      "Your session ended",
    );
  });

  it("keeps trigger keys and keys limited to workflows to the API", async () => {
    const trigger = await makeKey({ name: "ci", role: "trigger", workflows: ["dash-keys"] });
    const limited = await makeKey({ name: "team", role: "viewer", workflows: ["dash-keys"] });
    for (const key of [trigger.key, limited.key]) {
      const response = await signInWith(key);
      expect(response.status).toBe(403);
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    expect((await asKey(limited.key, "/api/workflows/dash-keys")).status).toBe(200);
  });

  it("keeps a session signed in before keys existed as the API token's, an admin, until it expires", async () => {
    const secret = `signalbox-dashboard-session:${token}`;
    const old = cookiePair(
      await serializeSigned("signalbox_session", `v1|${Date.now() + 60_000}|abc|api-token`, secret, { path: "/ui" }),
    );
    expect((await page("/ui/runs", { cookie: old })).status).toBe(200);
    const csrf = await csrfOf(old);
    const disable = await page("/ui/workflows/dash-keys/disable", { cookie: old, form: { csrf } });
    expect(disable.status).toBe(303);
    expect((await page("/ui/workflows/dash-keys/enable", { cookie: old, form: { csrf } })).status).toBe(303);
  });
});
