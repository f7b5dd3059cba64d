/**
 * Who may do what. A route declares the one permission it needs (`allow(...)` in
 * src/routes/auth.ts); a role is the set of permissions it holds. docs/security.md prints this
 * table, and a test keeps the two in step.
 */
export const permissions = [
  "api.read",
  "workflows.read",
  "workflows.test",
  "workflows.write",
  "runs.read",
  "runs.start",
  "runs.act",
  "runs.delete",
  // Sensitive values in plain text (`?reveal=true`): admins only, every reveal on the audit trail.
  "runs.reveal",
  "events.publish",
  "files.read",
  "files.write",
  "outbox.read",
  "keys.manage",
  "audit.read",
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ["viewer", "operator", "trigger", "admin"] as const;
export type Role = (typeof roles)[number];

const viewer: Permission[] = ["api.read", "workflows.read", "runs.read", "files.read"];

export const rolePermissions: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(viewer),
  // The outbox holds approval links, which decide approvals: it is for those who may decide them.
  operator: new Set([
    ...viewer,
    "workflows.test",
    "runs.start",
    "runs.act",
    "events.publish",
    "files.write",
    "outbox.read",
  ]),
  trigger: new Set(["api.read", "runs.start", "events.publish"]),
  admin: new Set(permissions),
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return rolePermissions[role].has(permission);
}

/**
 * Who made a request: the bootstrap API_TOKEN (an admin) or an API key. `workflows` limits a
 * key to those workflows; null means every workflow.
 */
export interface Principal {
  kind: "token" | "key" | "access";
  id: string;
  name: string;
  role: Role;
  workflows: readonly string[] | null;
}

export const bootstrapPrincipal: Principal = {
  kind: "token",
  id: "api-token",
  name: "API_TOKEN",
  role: "admin",
  workflows: null,
};

export function inScope(principal: Principal, workflowId: string): boolean {
  return principal.workflows === null || principal.workflows.includes(workflowId);
}
