import { SELF } from "cloudflare:test";
import { token } from "./helpers";

export const origin = "http://signalbox.test";

/** A request as the browser sends it from a dashboard page: same origin, no redirects followed. */
export function page(path: string, init: RequestInit & { cookie?: string; form?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", init.cookie);
  let body = init.body;
  if (init.form) {
    headers.set("content-type", "application/x-www-form-urlencoded");
    if (!headers.has("origin")) headers.set("origin", origin);
    body = new URLSearchParams(init.form).toString();
  }
  const url = path.startsWith("http") ? path : `${origin}${path}`;
  return SELF.fetch(url, {
    ...init,
    method: init.method ?? (init.form ? "POST" : "GET"),
    headers,
    body: body ?? null,
    redirect: "manual",
  });
}

/** The `name=value` part of a Set-Cookie header, to send back as a Cookie header. */
export function cookiePair(setCookie: string | null): string {
  if (!setCookie) throw new Error("no Set-Cookie header");
  return setCookie.split(";")[0] ?? "";
}

/** Signs in with the API token and answers the session cookie. */
export async function signIn(): Promise<string> {
  const response = await page("/ui/login", { form: { token, next: "/ui/runs" } });
  if (response.status !== 303) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  return cookiePair(response.headers.get("set-cookie"));
}

/** The form token a signed-in page embeds (the sign-out form carries it on every page). */
export async function csrfOf(cookie: string): Promise<string> {
  const html = await (await page("/ui/workflows", { cookie })).text();
  const match = /name="csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match?.[1]) throw new Error("no csrf token on the page");
  return match[1];
}
