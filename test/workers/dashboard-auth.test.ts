import { serializeSigned } from "hono/utils/cookie";
import { describe, expect, it } from "vitest";
import { cookiePair, csrfOf, origin, page, signIn } from "./dashboard-support";
import { api, token } from "./helpers";

const secret = `signalbox-dashboard-session:${token}`;

async function forgedCookie(value: string, key = secret): Promise<string> {
  return cookiePair(await serializeSigned("signalbox_session", value, key, { path: "/ui" }));
}

describe("the dashboard's front door", () => {
  it("sends a browser asking for / to /ui/ and API clients still get JSON", async () => {
    const html = await page("/", { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(html.status).toBe(303);
    expect(html.headers.get("location")).toBe("/ui/");
    const json = await page("/", { headers: { accept: "application/json" } });
    expect(json.status).toBe(200);
    expect(((await json.json()) as { name: string }).name).toBe("Signalbox");
  });

  it("redirects a page asked for without a session to sign-in, remembering the page", async () => {
    const response = await page("/ui/runs?status=failed");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/ui/login?next=${encodeURIComponent("/ui/runs?status=failed")}`);
  });

  it("tells htmx to go to sign-in when a fragment is asked for without a session", async () => {
    const response = await page("/ui/runs", {
      headers: { "hx-request": "true", "hx-current-url": `${origin}/ui/runs` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("hx-redirect")).toMatch(/^\/ui\/login\?next=/);
  });

  it("serves the sign-in page with a strict CSP and security headers", async () => {
    const response = await page("/ui/login");
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("referrer-policy")).toBe("same-origin");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await response.text();
    expect(html).toContain('name="token"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/\sstyle="/);
  });

  it("serves htmx and the stylesheet from the Worker without a session", async () => {
    const html = await (await page("/ui/login")).text();
    const script = /<script src="(\/ui\/assets\/htmx-[0-9.]+\.min\.js)"/.exec(html)?.[1];
    const styles = /<link rel="stylesheet" href="(\/ui\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(styles).toBeDefined();
    const js = await page(script ?? "");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(await js.text()).toContain("htmx");
    const css = await page(styles ?? "");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(await css.text()).toContain(".topbar");
  });
});

describe("signing in", () => {
  it("refuses a wrong token and sets no cookie", async () => {
    const response = await page("/ui/login", { form: { token: "not-the-token", next: "/ui/runs" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("neither this Worker&#39;s API token nor a live API key");
  });

  it("sets an HttpOnly, SameSite=Strict, expiring session cookie and goes to the page asked for", async () => {
    const response = await page("/ui/login", { form: { token, next: "/ui/workflows?x=1" } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/ui/workflows?x=1");
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^signalbox_session=/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/ui");
    expect(cookie).toContain("Max-Age=43200");
    expect(cookie).not.toContain("Secure");
    const signedIn = await page("/ui/workflows", { cookie: cookiePair(cookie) });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain("Sign out");
  });

  it("marks the cookie Secure on https", async () => {
    const response = await page("https://signalbox.test/ui/login", {
      form: { token, next: "/ui/runs" },
      headers: { origin: "https://signalbox.test" },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).toContain("Secure");
  });

  it("refuses a sign-in form posted from another origin", async () => {
    const response = await page("/ui/login", {
      form: { token, next: "/ui/runs" },
      headers: { origin: "https://evil.example" },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  const nextTargets: [string, string][] = [
    ["/ui/runs?status=failed", "/ui/runs?status=failed"],
    ["//evil.example/ui", "/ui/runs"],
    ["https://evil.example/ui/runs", "/ui/runs"],
    ["/\\evil.example", "/ui/runs"],
    ["/ui\\..\\evil", "/ui/runs"],
    ["/api/runs", "/ui/runs"],
    ["/ui/../api/runs", "/ui/runs"],
    ["/uix", "/ui/runs"],
    ["javascript:alert(1)", "/ui/runs"],
    ["/ui/login", "/ui/runs"],
    ["", "/ui/runs"],
  ];
  it.each(nextTargets)("goes back to next=%j only inside the dashboard (%s)", async (next, location) => {
    const response = await page("/ui/login", { form: { token, next } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(location);
  });
});

describe("sessions", () => {
  it("treats a tampered cookie as no session", async () => {
    const cookie = await signIn();
    const [name, value] = cookie.split("=");
    const decoded = decodeURIComponent(value ?? "");
    const tampered = `${name}=${encodeURIComponent(decoded.replace(/\|token\|-\|admin\|/, "|key|key_other|admin|"))}`;
    expect(tampered).not.toBe(cookie);
    const response = await page("/ui/workflows", { cookie: tampered });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(/^\/ui\/login\?next=/);
  });

  it("treats a cookie signed with another key as no session", async () => {
    const cookie = await forgedCookie(`v1|${Date.now() + 60_000}|abc|api-token`, "another-secret");
    expect((await page("/ui/workflows", { cookie })).status).toBe(303);
  });

  it("sends an expired session to sign-in, says so, and comes back to the page asked for", async () => {
    const cookie = await forgedCookie(`v1|${Date.now() - 1000}|abc|api-token`);
    const response = await page("/ui/workflows?tab=1", { cookie });
    expect(response.status).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location).toBe(`/ui/login?next=${encodeURIComponent("/ui/workflows?tab=1")}`);
    const login = await page(location, { cookie });
    expect(await login.text()).toContain("Your session ended");
    const again = await page("/ui/login", { form: { token, next: "/ui/workflows?tab=1" } });
    expect(again.headers.get("location")).toBe("/ui/workflows?tab=1");
  });

  it("keeps the API on bearer tokens: a session cookie, good or bad, is 401 there", async () => {
    const cookie = await signIn();
    const withGood = await page("/api/runs", { cookie });
    expect(withGood.status).toBe(401);
    const withBad = await page("/api/runs", { cookie: "signalbox_session=garbage" });
    expect(withBad.status).toBe(401);
    expect((await api("/api/runs")).status).toBe(200);
  });

  it("answers an unknown dashboard page with a 404 page", async () => {
    const cookie = await signIn();
    const response = await page("/ui/no-such-page", { cookie });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Page not found");
  });
});

describe("forms that change something", () => {
  it("refuses sign-out without the form token, with a wrong one, and from another origin", async () => {
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const missing = await page("/ui/logout", { cookie, form: {} });
    expect(missing.status).toBe(403);
    const wrong = await page("/ui/logout", { cookie, form: { csrf: "0".repeat(64) } });
    expect(wrong.status).toBe(403);
    const crossSite = await page("/ui/logout", {
      cookie,
      form: { csrf },
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain("sent from another site");
    expect((await page("/ui/workflows", { cookie })).status).toBe(200);
  });

  it("refuses a form token from another session", async () => {
    const first = await signIn();
    const second = await signIn();
    const response = await page("/ui/logout", { cookie: second, form: { csrf: await csrfOf(first) } });
    expect(response.status).toBe(403);
  });

  it("signs out with the form token and clears the cookie", async () => {
    const cookie = await signIn();
    const response = await page("/ui/logout", { cookie, form: { csrf: await csrfOf(cookie) } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/ui/login?signed-out");
    expect(response.headers.get("set-cookie")).toMatch(/^signalbox_session=;.*Max-Age=0/);
  });

  it("ends the session on the server: a copy of the cookie taken before signing out is no session", async () => {
    const cookie = await signIn();
    const other = await signIn();
    expect((await page("/ui/runs", { cookie })).status).toBe(200);
    const signedOut = await page("/ui/logout", { cookie, form: { csrf: await csrfOf(cookie) } });
    expect(signedOut.status).toBe(303);
    const replayed = await page("/ui/runs", { cookie });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get("location")).toBe("/ui/login?next=%2Fui%2Fruns");
    const fragment = await page("/ui/runs", { cookie, headers: { "hx-request": "true" } });
    expect(fragment.status).toBe(401);
    // Only that session ended: another one, signed in with the same token, goes on.
    expect((await page("/ui/runs", { cookie: other })).status).toBe(200);
  });
});
