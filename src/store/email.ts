import { and, desc, eq, inArray, isNull, lt, ne } from "drizzle-orm";
import type { WorkflowDefinition } from "../definition/schema";
import type { DefinitionIssue } from "../definition/validate";
import type { Database } from "./db";
import { emailRejections, triggerSubscriptions, workflows } from "./schema";

/**
 * The workflow that takes mail for a recipient: the one naming the exact address, else the one
 * naming `*@` its domain. Addresses are unique across live workflows (registration refuses a
 * second claim), so there is at most one of each.
 */
export async function emailSubscriber(db: Database, recipient: string): Promise<string | undefined> {
  const address = recipient.toLowerCase();
  const domain = address.slice(address.lastIndexOf("@") + 1);
  const rows = await db
    .select({ key: triggerSubscriptions.key, workflowId: triggerSubscriptions.workflowId })
    .from(triggerSubscriptions)
    .innerJoin(workflows, eq(workflows.id, triggerSubscriptions.workflowId))
    .where(
      and(
        eq(triggerSubscriptions.kind, "email"),
        inArray(triggerSubscriptions.key, [address, `*@${domain}`]),
        isNull(workflows.deletedAt),
      ),
    )
    .all();
  return (rows.find((row) => row.key === address) ?? rows[0])?.workflowId;
}

/** Addresses among `addresses` that another live workflow already takes mail for. */
export async function emailAddressClaims(
  db: Database,
  workflowId: string,
  addresses: string[],
): Promise<{ address: string; workflowId: string }[]> {
  if (addresses.length === 0) return [];
  const rows = await db
    .select({ address: triggerSubscriptions.key, workflowId: triggerSubscriptions.workflowId })
    .from(triggerSubscriptions)
    .innerJoin(workflows, eq(workflows.id, triggerSubscriptions.workflowId))
    .where(
      and(
        eq(triggerSubscriptions.kind, "email"),
        inArray(
          triggerSubscriptions.key,
          addresses.map((address) => address.toLowerCase()),
        ),
        ne(triggerSubscriptions.workflowId, workflowId),
        isNull(workflows.deletedAt),
      ),
    )
    .all();
  return rows;
}

/**
 * The definition's email addresses that another workflow takes mail for: registration refuses
 * them (an exact address and a `*@domain` one may belong to different workflows; the exact one
 * wins for its address).
 */
export async function emailConflicts(db: Database, definition: WorkflowDefinition): Promise<DefinitionIssue[]> {
  const addresses = definition.triggers.flatMap((trigger, index) =>
    trigger.type === "email" ? [{ index, address: trigger.address.toLowerCase() }] : [],
  );
  const claims = await emailAddressClaims(
    db,
    definition.id,
    addresses.map((entry) => entry.address),
  );
  return claims.map((claim) => ({
    code: "definition.trigger_conflict",
    path: ["triggers", addresses.find((entry) => entry.address === claim.address)?.index ?? 0, "address"],
    message: `workflow ${claim.workflowId} already takes mail for ${claim.address}`,
  }));
}

export type EmailRejection = typeof emailRejections.$inferSelect;

export async function recordRejection(db: Database, rejection: EmailRejection): Promise<void> {
  await db.insert(emailRejections).values(rejection).onConflictDoNothing().run();
}

/** Newest first (ids sort by time); `before` is the id of the previous page's last row. */
export async function listRejections(
  db: Database,
  options: { limit: number; workflowId?: string | undefined; before?: string | undefined },
): Promise<EmailRejection[]> {
  const conditions = [];
  if (options.workflowId !== undefined) conditions.push(eq(emailRejections.workflowId, options.workflowId));
  if (options.before !== undefined) conditions.push(lt(emailRejections.id, options.before));
  return db
    .select()
    .from(emailRejections)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(emailRejections.id))
    .limit(options.limit)
    .all();
}

/** Rejections older than the retention go with the watchdog's sweep. */
export async function deleteOldRejections(db: Database, before: number): Promise<void> {
  await db.delete(emailRejections).where(lt(emailRejections.receivedAt, before)).run();
}
