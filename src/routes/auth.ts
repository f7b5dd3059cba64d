import type { Context, MiddlewareHandler } from "hono";
import { accessHeader, accessSetup, verifyAccessToken } from "../auth/access";
import { authenticateToken, lastUsedEvery } from "../auth/authenticate";
import { blockedFor, clientAddress, countFailure } from "../auth/rate-limit";
import { inScope, type Permission, type Principal, roleAllows } from "../auth/roles";
import type { Env } from "../env";
import { errorStatus, fail, toErrorData } from "../errors";
import { touchApiKey } from "../store/api-keys";
import { database } from "../store/db";
import { attemptedActor, noteAudit } from "./audit-trail";
import { runWorkflowId } from "./run-scope";

declare module "hono" {
  interface ContextVariableMap {
    /** Who made an /api request: set by `requireApiToken`, read by `allow` and handlers that filter. */
    principal: Principal;
  }
}

/** Runs a write after the answer when the runtime allows it (tests without a context await it). */
function afterResponse(c: Context, work: Promise<unknown>): void {
  const logged = work.catch((thrown) =>
    console.log(JSON.stringify({ level: "warn", message: "api key last-used write failed", error: String(thrown) })),
  );
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // No execution context: the promise still runs; nothing waits on it.
  }
}

/**
 * The person behind a Cf-Access-Jwt-Assertion, when Access is set up; undefined when it is not
 * (the request then needs a bearer token). A token that does not verify is refused with its code.
 */
async function accessPrincipal(env: Env, assertion: string, now: number): Promise<Principal | undefined> {
  const setup = accessSetup(env);
  if ("off" in setup) return undefined;
  if ("error" in setup) fail(setup.error.code, setup.error.message);
  const result = await verifyAccessToken(setup.config, assertion, now);
  if ("error" in result) fail(result.error.code, result.error.message, { details: result.error.details });
  return result.principal;
}

/** Every /api route: a bearer token that is the API_TOKEN or a live API key. */
export const requireApiToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const now = Date.now();
  const address = clientAddress(c);
  const wait = blockedFor("auth", address, now);
  if (wait !== undefined) tooManyFailures(wait);
  const principal = await identify(c, now).catch(async (thrown: unknown) => {
    // A refused credential (401) spends the client's budget; over it, the answer is 429.
    const error = toErrorData(thrown);
    if (errorStatus[error.code] === 401) {
      const over = await countFailure(c.env, "auth", address, now);
      if (over !== undefined) tooManyFailures(over);
    }
    throw thrown;
  });
  c.set("principal", principal);
  await next();
};

export function tooManyFailures(waitMs: number): never {
  fail("auth.rate_limited", "too many failed attempts from this address: wait before trying again", {
    retryAfterMs: waitMs,
  });
}

/** The caller: a bearer token, or (without one) the person Cloudflare Access let through. */
async function identify(c: Context<{ Bindings: Env }>, now: number): Promise<Principal> {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const assertion = c.req.header(accessHeader);
  if (!match?.[1] && assertion) {
    const principal = await accessPrincipal(c.env, assertion, now);
    if (principal) return principal;
  }
  if (!match?.[1]) fail("auth.missing_token", "missing `Authorization: Bearer <token>` header");
  const result = await authenticateToken(c.env, match[1].trim(), now);
  if ("error" in result) {
    noteAudit(c, { actor: attemptedActor(match[1]) });
    fail(result.error.code, result.error.message);
  }
  if (result.touch) afterResponse(c, touchApiKey(database(c.env.DB), result.touch.keyId, now, lastUsedEvery));
  return result.principal;
}

export interface AllowOptions {
  /** The route parameter holding a workflow id: a key limited to other workflows gets 404. */
  workflow?: string;
  /** The route parameter holding a run id: the run's workflow must be one the key may see, or 404. */
  run?: string;
  /** The handler narrows its answer to the key's workflows itself (lists, event fan-out). */
  filtered?: boolean;
}

const declared = new WeakMap<object, Permission>();

/** The permission an `allow` middleware checks; the route-coverage test reads it. */
export function declaredPermission(handler: unknown): Permission | undefined {
  return typeof handler === "function" ? declared.get(handler) : undefined;
}

export function forbidden(principal: Principal, permission: Permission, reason?: string): never {
  fail("auth.forbidden", reason ?? `the ${principal.role} role does not have the ${permission} permission`, {
    details: { permission, role: principal.role, ...(principal.workflows ? { workflows: principal.workflows } : {}) },
  });
}

/**
 * Declared on each /api route: the permission it needs. A key limited to some workflows reaches
 * a route only when the route names one of them or filters its answer to them; elsewhere (cross-
 * workflow views such as metrics) it is refused. A workflow or run outside its list answers 404,
 * as one that does not exist would, so a key cannot probe for others' ids.
 */
export function allow(permission: Permission, options: AllowOptions = {}): MiddlewareHandler<{ Bindings: Env }> {
  const handler: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
    const principal = c.get("principal");
    if (!roleAllows(principal.role, permission)) forbidden(principal, permission);
    if (principal.workflows !== null) {
      if (options.workflow !== undefined) {
        const workflowId = c.req.param(options.workflow) ?? "";
        if (!inScope(principal, workflowId)) fail("workflow.not_found", `no workflow ${workflowId}`);
      } else if (options.run !== undefined) {
        const runId = c.req.param(options.run) ?? "";
        const workflowId = await runWorkflowId(c.env, runId);
        if (workflowId === undefined || !inScope(principal, workflowId)) fail("run.not_found", `no run ${runId}`);
      } else if (!options.filtered) {
        forbidden(principal, permission, `a key limited to some workflows cannot use ${c.req.method} ${c.req.path}`);
      }
    }
    await next();
  };
  declared.set(handler, permission);
  return handler;
}
