/**
 * Metrics over time for the dashboard's charts: the runs created in a window, in equal buckets,
 * counted by status, with the LLM tokens and cost they checkpointed. One range scan of the
 * creation index.
 */
export interface SeriesBucket {
  at: number;
  byStatus: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export async function runSeries(
  d1: D1Database,
  query: { since: number; until: number; bucketMs: number; workflowId?: string },
): Promise<SeriesBucket[]> {
  const params: (string | number)[] = [query.since, query.until, query.bucketMs];
  let where = "created_at >= ?1 AND created_at < ?2";
  if (query.workflowId !== undefined) {
    params.push(query.workflowId);
    where += " AND workflow_id = ?4";
  }
  const { results } = await d1
    .prepare(
      `SELECT (created_at - ?1) / ?3 AS bucket, status, COUNT(*) AS count, SUM(llm_input_tokens) AS input_tokens,
         SUM(llm_output_tokens) AS output_tokens, SUM(llm_cost_usd) AS cost_usd
       FROM runs WHERE ${where} GROUP BY bucket, status`,
    )
    .bind(...params)
    .all<{
      bucket: number;
      status: string;
      count: number;
      input_tokens: number;
      output_tokens: number;
      cost_usd: number;
    }>();
  const count = Math.ceil((query.until - query.since) / query.bucketMs);
  const buckets: SeriesBucket[] = Array.from({ length: count }, (_, index) => ({
    at: query.since + index * query.bucketMs,
    byStatus: {},
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
  }));
  for (const row of results) {
    const bucket = buckets[Math.min(count - 1, Math.max(0, Math.floor(row.bucket)))];
    if (!bucket) continue;
    bucket.byStatus[row.status] = (bucket.byStatus[row.status] ?? 0) + row.count;
    bucket.inputTokens += row.input_tokens ?? 0;
    bucket.outputTokens += row.output_tokens ?? 0;
    bucket.costUsd += row.cost_usd ?? 0;
  }
  return buckets;
}
