import { serializeSigned } from "hono/utils/cookie";
import { describe, expect, it } from "vitest";
import { asKey, makeKey, setExpiry } from "./access-support";
import { cookiePair, page } from "./dashboard-support";
import { api, register, settle, startManual, token } from "./helpers";
import { approvalWorkflow } from "./human-helpers";

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

  describe("offers on each page only what the signed-in role may do", () => {
    /** One run in each state the pages act on: ended, failed (a dead letter) and waiting for a person. */
    async function runsToAct() {
      await register(definition);
      await register({
        id: "dash-roles-fail",
        name: "Fails",
        triggers: [{ type: "manual" }],
        nodes: [{ id: "boom", type: "transform", config: { set: { x: "$error('boom')" } } }],
        edges: [],
      });
      await register(approvalWorkflow("dash-roles-ask"));
      const ended = await startManual("dash-keys");
      const failed = await startManual("dash-roles-fail");
      const asking = await startManual("dash-roles-ask", { item: "a desk", amount: 450 });
      expect((await settle(ended)).status).toBe("success");
      expect((await settle(failed)).status).toBe("failed");
      expect((await settle(asking)).status).toBe("needs_review");
      return { ended, failed, asking };
    }

    async function cookieFor(role: "viewer" | "operator" | "admin") {
      const key = role === "admin" ? token : (await makeKey({ name: `as-${role}`, role })).key;
      return cookiePair((await signInWith(key)).headers.get("set-cookie"));
    }

    /** What a page offers: the action links and the forms that would change something. */
    async function offered(cookie: string, path: string) {
      const html = await (await page(path, { cookie })).text();
      return {
        actions: [...html.matchAll(/data-action="([a-z]+)"/g)].map((match) => match[1]),
        bulk: html.includes('action="/ui/runs/bulk"'),
        ticks: html.includes('name="runId"'),
        decide: html.includes('action="/ui/approvals/decide"'),
        requeue: html.includes("/requeue"),
        start: html.includes('action="/ui/workflows/dash-keys/runs"'),
        toggle: /action="\/ui\/workflows\/dash-keys\/(enable|disable)"/.test(html),
        trial: html.includes('action="/ui/workflows/dash-keys/test#try"'),
        signOut: html.includes('action="/ui/logout"'),
      };
    }

    it.each([
      ["viewer", { ended: [], failed: [], lists: false, decide: false, workflow: [false, false, false] }],
      [
        "operator",
        {
          ended: ["replay", "hold"],
          failed: ["retry", "replay", "hold"],
          lists: true,
          decide: true,
          workflow: [true, false, true],
        },
      ],
      [
        "admin",
        {
          ended: ["replay", "hold", "delete"],
          failed: ["retry", "replay", "hold", "delete"],
          lists: true,
          decide: true,
          workflow: [true, true, true],
        },
      ],
    ] as const)("as %s", async (role, expected) => {
      const runs = await runsToAct();
      const cookie = await cookieFor(role);
      expect((await offered(cookie, `/ui/runs/${runs.ended}`)).actions).toEqual(expected.ended);
      expect((await offered(cookie, `/ui/runs/${runs.failed}`)).actions).toEqual(expected.failed);
      const list = await offered(cookie, "/ui/runs");
      expect([list.bulk, list.ticks, list.signOut]).toEqual([expected.lists, expected.lists, true]);
      expect((await offered(cookie, "/ui/dead-letters")).requeue).toBe(expected.lists);
      const inbox = await (await page("/ui/approvals", { cookie })).text();
      expect(inbox).toContain(`data-review="${runs.asking}/ask"`);
      expect(inbox.includes('action="/ui/approvals/decide"')).toBe(expected.decide);
      const workflow = await offered(cookie, "/ui/workflows/dash-keys");
      expect([workflow.start, workflow.toggle, workflow.trial]).toEqual(expected.workflow);

      // Pages that lead only to a refused form say so instead of showing it.
      const confirmDelete = await page(`/ui/runs/${runs.ended}/confirm/delete`, { cookie });
      expect(confirmDelete.status).toBe(role === "admin" ? 200 : 403);
      const confirmRetry = await page(`/ui/runs/${runs.failed}/confirm/retry`, { cookie });
      expect(confirmRetry.status).toBe(role === "viewer" ? 403 : 200);
      const preview = await page("/ui/runs/bulk?action=cancel&workflow=dash-roles-ask", { cookie });
      expect(preview.status).toBe(role === "viewer" ? 403 : 200);
    });

    it("refuses an operator's delete form as the API does, and keeps the run", async () => {
      const { ended } = await runsToAct();
      const cookie = await cookieFor("operator");
      const csrf = await csrfOf(cookie);
      const response = await page(`/ui/runs/${ended}/actions/delete`, { cookie, form: { csrf } });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("runs.delete");
      expect((await api(`/api/runs/${ended}`)).status).toBe(200);
    });
  });
});
