/**
 * D1, through drizzle: the tables (schema.ts) and one module per thing queried across runs
 * (runs, steps, approvals, outbox, metrics...). Run objects write here only through their
 * checkpoint outbox (checkpoints.ts); the store never imports the run shell.
 */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof build>;

function build(d1: D1Database) {
  return drizzle(d1, { schema });
}

/**
 * One drizzle instance per binding: building one derives the relational schema again, which
 * the trigger path paid on every run.
 */
const instances = new WeakMap<D1Database, Database>();

export function database(d1: D1Database): Database {
  let db = instances.get(d1);
  if (!db) {
    db = build(d1);
    instances.set(d1, db);
  }
  return db;
}
