const fallback = "/ui/runs";
const probeOrigin = "http://signalbox.invalid";

/**
 * Where to go after signing in: only a path of this dashboard. Anything that could leave the
 * site (`//host`, `/\host`, absolute URLs, other paths of the Worker) goes to the runs list.
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return fallback;
  if (!value.startsWith("/ui") || value.includes("\\") || [...value].some((char) => char < " ")) {
    return fallback;
  }
  let url: URL;
  try {
    url = new URL(value, probeOrigin);
  } catch {
    return fallback;
  }
  if (url.origin !== probeOrigin) return fallback;
  if (url.pathname !== "/ui" && !url.pathname.startsWith("/ui/")) return fallback;
  if (url.pathname === "/ui/login" || url.pathname === "/ui/logout") return fallback;
  return `${url.pathname}${url.search}`;
}

/** The path and query a page was asked for, to come back to it after signing in. */
export function requestedPath(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export function loginPath(next: string): string {
  return `/ui/login?${new URLSearchParams({ next }).toString()}`;
}
