import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Role } from "../auth/roles";
import type { Database } from "./db";
import { apiKeys } from "./schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  workflows: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** What the API shows of a key: everything but its hash. */
export function keyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    workflows: row.workflows === null ? null : (JSON.parse(row.workflows) as string[]),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export async function insertApiKey(db: Database, row: ApiKeyRow): Promise<void> {
  await db.insert(apiKeys).values(row).run();
}

export function findApiKey(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

export function listApiKeys(db: Database): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).all();
}

/** Revokes a key once; revoking it again keeps the first time. Undefined: no such key. */
export async function revokeApiKey(db: Database, id: string, now: number): Promise<ApiKeyRow | undefined> {
  await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .run();
  return findApiKey(db, id);
}

/**
 * Notes a key's use at most once per `every` ms: the condition makes concurrent requests from
 * many isolates write once between them rather than once each.
 */
export async function touchApiKey(db: Database, id: string, now: number, every: number): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - every))))
    .run();
}
