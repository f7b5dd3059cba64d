import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { parseApiKey } from "../auth/api-key";
import type { Principal } from "../auth/roles";
import type { Env } from "../env";
import { isRunId } from "../lib/ids";
import { type AuditActor, type AuditRecord, appendAudit } from "../store/audit-log";
import type { Session } from "./ui/session";

/** What a handler tells the audit trail that the route and the principal do not. */
export interface AuditNote {
  actor?: AuditActor;
  workflowId?: string;
  runId?: string;
  /** The error code of an answer that is not a JSON error (a page, a redirect). */
  code?: string;
  /** The action as recorded, when the route and method do not say enough (a reveal of sensitive values). */
  action?: string;
  /** Recorded even though it is a read: sensitive values were revealed. */
  record?: boolean;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by handlers through `noteAudit`; read once the answer is made. */
    auditNote: AuditNote;
    /** The code of the error answer made by `errorResponse`. */
    errorCode: string;
  }
}

export function noteAudit(c: Context, note: AuditNote): void {
  c.set("auditNote", { ...c.get("auditNote"), ...note });
}

export function principalActor(principal: Principal): AuditActor {
  if (principal.kind === "key") return { kind: "key", id: principal.id, name: principal.name };
  if (principal.kind === "access") return { kind: "access", id: principal.id, name: principal.name };
  return { kind: "token", id: principal.id, name: principal.name };
}

function sessionActor(session: Session): AuditActor {
  const { actor } = session;
  if (actor.kind === "key") return { kind: "session:key", id: actor.id, name: actor.name };
  if (actor.kind === "access") return { kind: "session:access", id: actor.id, name: actor.name };
  return { kind: "session:token", id: "api-token", name: actor.name };
}

const anonymous: AuditActor = { kind: "anonymous", id: null, name: null };

/** Who a refused credential claimed to be: an API key's id when it is in the issued form, else nobody. */
export function attemptedActor(token: unknown): AuditActor {
  const parsed = typeof token === "string" ? parseApiKey(token.trim()) : undefined;
  return parsed ? { kind: "key", id: parsed.id, name: null } : anonymous;
}

/** The client's address as Cloudflare's edge reports it. */
export function clientIp(c: Context): string | null {
  return c.req.header("cf-connecting-ip") ?? null;
}

/**
 * The route that answered: the first one matched for the request's method that is not a
 * middleware (`use`, `all`), so a request refused before its handler still names the handler's route.
 */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  const handler = routes.find((route) => route.method === c.req.method && !route.path.endsWith("*"));
  return handler?.path ?? c.req.path;
}

/** A path segment as its route reads it; one that does not decode (the route refuses it) as sent. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The workflow or run the path names, read against the route's own pattern. */
function targetOf(route: string, path: string): { workflowId: string | null; runId: string | null } {
  const pattern = route.split("/");
  const given = path.split("/");
  const params: Record<string, string> = {};
  pattern.forEach((part, index) => {
    const value = given[index];
    if (part.startsWith(":") && value !== undefined) params[part.slice(1)] = decoded(value);
  });
  const id = params.id ?? params.runId ?? params.workflowId;
  if (id === undefined) return { workflowId: null, runId: null };
  if (/^\/(api|ui)\/(runs|dead-letters)\/:/.test(route)) {
    return { workflowId: null, runId: isRunId(id) ? id : null };
  }
  if (/^\/(api|ui)\/workflows\/:/.test(route) || /^\/hooks\/:/.test(route)) return { workflowId: id, runId: null };
  return { workflowId: null, runId: null };
}

const reading = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * What is recorded: every request that may change something (any method but GET, HEAD and
 * OPTIONS) and every refused one (401, 403), whatever the door. Webhook deliveries are triggers,
 * not people: a delivery is recorded only when it is refused. Requests turned away by the rate
 * limiter (429) are not, so a flood cannot flood the trail.
 */
export function shouldAudit(method: string, path: string, status: number): boolean {
  if (status === 401 || status === 403) return true;
  if (reading.has(method)) return false;
  if (path.startsWith("/hooks/") || path.startsWith("/api/__bench")) return false;
  return status !== 429;
}

/**
 * Records the request once it has been answered, before the answer leaves: an action is
 * acknowledged only once it is on the trail. A trail that cannot be written is logged as an
 * error and does not undo the answer.
 */
export const auditTrail: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  await next();
  const status = c.res.status;
  const note = c.get("auditNote") ?? {};
  if (!note.record && !shouldAudit(c.req.method, c.req.path, status)) return;
  const route = routeOf(c);
  const target = targetOf(route, c.req.path);
  const principal = c.get("principal") as Principal | undefined;
  const session = (c.get as (key: string) => unknown)("session") as Session | undefined;
  const actor = note.actor ?? (principal ? principalActor(principal) : session ? sessionActor(session) : anonymous);
  const record: AuditRecord = {
    at: Date.now(),
    actor,
    action: note.action ?? `${c.req.method} ${route}`,
    workflowId: note.workflowId ?? target.workflowId,
    runId: note.runId ?? target.runId,
    status,
    code: c.get("errorCode") ?? note.code ?? null,
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 500) ?? null,
  };
  try {
    await appendAudit(c.env.DB, record);
  } catch (thrown) {
    console.log(
      JSON.stringify({
        level: "error",
        message: "audit entry not written",
        action: record.action,
        error: String(thrown),
      }),
    );
  }
};
