import type { Permission } from "../auth/roles";

/**
 * What the signed-in role may do: pages offer only those actions (a viewer sees no forms that
 * change anything), and the server refuses the rest anyway (src/routes/ui/page-permissions.tsx).
 */
export type Can = (permission: Permission) => boolean;
