import type { CachedAnswer } from "../llm/types";

/*
 * The LLM replay cache in D1. Plain prepared statements: one read before a cached call and one
 * write after it, on the step's own path.
 */
const select = "SELECT answer FROM llm_cache WHERE key = ?1";
const insert = `INSERT INTO llm_cache (key, provider, model, answer, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (key) DO NOTHING`;

export async function readCachedAnswer(d1: D1Database, key: string): Promise<CachedAnswer | undefined> {
  const row = await d1.prepare(select).bind(key).first<{ answer: string }>();
  return row ? (JSON.parse(row.answer) as CachedAnswer) : undefined;
}

/** The first answer stored for a key stays: a replay must see what the original run saw. */
export async function storeCachedAnswer(
  d1: D1Database,
  key: string,
  answer: CachedAnswer,
  meta: { provider: string; model: string },
  now: number,
): Promise<void> {
  await d1.prepare(insert).bind(key, meta.provider, meta.model, JSON.stringify(answer), now).run();
}
