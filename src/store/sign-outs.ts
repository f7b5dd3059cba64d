import { eq, lt } from "drizzle-orm";
import type { Database } from "./db";
import { dashboardSignOuts } from "./schema";

/** Records a signed-out session until its cookie would have expired; forgets those past it. */
export async function recordSignOut(db: Database, sessionId: string, expiresAt: number, now: number): Promise<void> {
  await db.batch([
    db.delete(dashboardSignOuts).where(lt(dashboardSignOuts.expiresAt, now)),
    db.insert(dashboardSignOuts).values({ sessionId, expiresAt }).onConflictDoNothing(),
  ]);
}

export async function isSignedOut(db: Database, sessionId: string): Promise<boolean> {
  const row = await db
    .select({ id: dashboardSignOuts.sessionId })
    .from(dashboardSignOuts)
    .where(eq(dashboardSignOuts.sessionId, sessionId))
    .get();
  return row !== undefined;
}
