import type { Context, MiddlewareHandler } from "hono";
import { type Permission, roleAllows } from "../../auth/roles";
import type { Can } from "../../ui/can";
import { MessagePage } from "../../ui/pages/message-page";
import { noteAudit } from "../audit-trail";
import type { UiEnv } from "./types";

/**
 * What each dashboard form needs, as the API's routes do (docs/security.md). Any other POST is
 * an action on runs (cancel, retry, requeue, bulk, an approval decision): `runs.act`.
 */
const pagePermissions: [pattern: RegExp, permission: Permission][] = [
  [/^\/ui\/runs\/[^/]+\/actions\/delete$/, "runs.delete"],
  [/^\/ui\/workflows\/[^/]+\/(enable|disable)$/, "workflows.write"],
  [/^\/ui\/workflows\/[^/]+\/test$/, "workflows.test"],
  [/^\/ui\/workflows\/[^/]+\/runs$/, "runs.start"],
];

export function pagePermission(path: string): Permission {
  return pagePermissions.find(([pattern]) => pattern.test(path))?.[1] ?? "runs.act";
}

/** The signed-in role's permissions, for pages to offer only what it may do. */
export function canOf(c: Context<UiEnv>): Can {
  const { role } = c.get("session");
  return (permission) => roleAllows(role, permission);
}

/** A page that would only lead to a refused form (a confirmation, a preview) says so instead: 403. */
export function notAllowedPage(c: Context<UiEnv>, permission: Permission) {
  const session = c.get("session");
  noteAudit(c, { code: "auth.forbidden" });
  return c.html(
    <MessagePage
      title="Not allowed"
      message={`Signed in as ${session.actor.name} (${session.role}), you do not have the ${permission} permission this needs. Nothing was changed.`}
      csrf={c.get("csrf")}
    />,
    403,
  );
}

/** Every dashboard POST, after the session and form token: a viewer's gets 403 and changes nothing. */
export const requirePagePermission: MiddlewareHandler<UiEnv> = async (c, next) => {
  const permission = pagePermission(c.req.path);
  if (!canOf(c)(permission)) return notAllowedPage(c, permission);
  return next();
};
