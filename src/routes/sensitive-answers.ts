import type { Context } from "hono";
import { roleAllows } from "../auth/roles";
import type { Env } from "../env";
import { fail } from "../errors";
import { keyringOf, openAll, redact, SealError } from "../security/seal";
import { noteAudit } from "./audit-trail";
import { forbidden } from "./auth";

/**
 * Sensitive values in answers (docs/security.md#sensitive-data). Run storage hands routes
 * values sealed; an answer shows each as `{"$signalbox.redacted": true}`, unless an admin asks
 * with `?reveal=true` on a route that offers it, which opens them and is put on the audit trail.
 */

/** `?reveal=true|false`; anything else is 400. */
export function revealQuery(c: Context): boolean {
  const value = c.req.query("reveal");
  if (value === undefined || value === "false") return false;
  if (value === "true" || value === "") return true;
  fail("request.invalid", "reveal must be true or false");
}

/** The answer's values redacted, or (reveal=true, runs.reveal) opened, the reveal audited. */
export async function sensitiveAnswer<T>(c: Context<{ Bindings: Env }>, runId: string, value: T): Promise<T> {
  if (!revealQuery(c)) return redact(value);
  const principal = c.get("principal");
  if (!roleAllows(principal.role, "runs.reveal")) forbidden(principal, "runs.reveal");
  noteAudit(c, { runId, action: `${c.req.method} ${c.req.path}?reveal=true`, record: true });
  const ring = keyringOf(c.env);
  if ("problem" in ring) fail("data_keys.unavailable", `sensitive values cannot be opened: ${ring.problem}`);
  try {
    return await openAll(value, ring);
  } catch (thrown) {
    if (!(thrown instanceof SealError)) throw thrown;
    fail(
      "data_keys.unavailable",
      `sensitive values cannot be opened: ${thrown.message}; list that key in DATA_KEYS again`,
    );
  }
}
