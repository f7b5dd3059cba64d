/** wrangler dev's default origin: where a local Signalbox answers when PUBLIC_URL is not set. */
export const defaultPublicUrl = "http://127.0.0.1:8787";

/**
 * Where this Signalbox answers from outside (approval links, `run.publicUrl` in a run's
 * context), without a trailing slash so callers can append a path.
 */
export function publicUrl(env: { PUBLIC_URL?: string }): string {
  return (env.PUBLIC_URL?.trim() || defaultPublicUrl).replace(/\/+$/, "");
}
