/**
 * Metrics from D1 checkpoints, for the runs created in a window. Percentiles are nearest-rank
 * and computed in SQL with window functions (the value whose rank is the first at or above
 * p * n), so no sample is dropped however many runs the window holds.
 */

export interface Distribution {
  count: number;
  sumMs: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface MetricsQuery {
  since: number;
  until: number;
  workflowId?: string;
}

function percentiles(values: string, groups: string[]): string {
  const partition = groups.length > 0 ? `PARTITION BY ${groups.join(", ")}` : "";
  const select = groups.length > 0 ? `${groups.join(", ")}, ` : "";
  const group = groups.length > 0 ? `GROUP BY ${groups.join(", ")}` : "";
  return `WITH d AS (${values}),
    ranked AS (SELECT d.*, ROW_NUMBER() OVER (${partition} ORDER BY v) AS rn, COUNT(*) OVER (${partition}) AS n FROM d)
    SELECT ${select} COUNT(*) AS count, SUM(v) AS sum_ms, MAX(v) AS max,
      MIN(CASE WHEN rn * 100 >= n * 50 THEN v END) AS p50,
      MIN(CASE WHEN rn * 100 >= n * 95 THEN v END) AS p95,
      MIN(CASE WHEN rn * 100 >= n * 99 THEN v END) AS p99
    FROM ranked ${group}`;
}

type DistributionRow = {
  count: number;
  sum_ms: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
};

function distribution(row: DistributionRow | undefined): Distribution {
  return {
    count: row?.count ?? 0,
    sumMs: row?.sum_ms ?? 0,
    p50: row?.p50 ?? null,
    p95: row?.p95 ?? null,
    p99: row?.p99 ?? null,
    max: row?.max ?? null,
  };
}

export interface StepStats extends Distribution {
  workflowId: string;
  nodeId: string;
  type: string;
}

export interface RawMetrics {
  runs: { workflowId: string; status: string; count: number }[];
  queueLag: Distribution;
  steps: StepStats[];
  attempts: StepStats[];
  retries: { workflowId: string; nodeId: string; retries: number }[];
  reviewed: number;
  deadLetters: number;
  llm: { inputTokens: number; outputTokens: number; costUsd: number };
  /** Messages the email trigger refused in the window, by code. */
  emailRejections: { code: string; count: number }[];
  /** Triggers flow control answered without a run (`rate_limited`) in the window, by kind. */
  flowRefusals: { kind: string; count: number }[];
}

/** Every query in one D1 batch: one round trip. */
export async function readMetrics(d1: D1Database, query: MetricsQuery): Promise<RawMetrics> {
  const scope = query.workflowId === undefined ? "" : " AND r.workflow_id = ?3";
  const bind = (statement: D1PreparedStatement) =>
    query.workflowId === undefined
      ? statement.bind(query.since, query.until)
      : statement.bind(query.since, query.until, query.workflowId);
  const inWindow = `r.created_at >= ?1 AND r.created_at < ?2${scope}`;
  const stepValues = (value: string, extra = "") =>
    `SELECT r.workflow_id AS workflow_id, s.node_id AS node_id, s.type AS type, ${value} AS v
     FROM runs r JOIN steps s ON s.run_id = r.id ${extra}
     WHERE ${inWindow} AND v IS NOT NULL`;
  const statements = [
    bind(
      d1.prepare(
        `SELECT r.workflow_id, r.status, COUNT(*) AS count FROM runs r WHERE ${inWindow} GROUP BY 1, 2 ORDER BY 1, 2`,
      ),
    ),
    bind(
      d1.prepare(
        percentiles(
          `SELECT r.started_at - r.created_at AS v FROM runs r WHERE ${inWindow} AND r.started_at IS NOT NULL`,
          [],
        ),
      ),
    ),
    // A step's duration: from its first attempt's start to its end, retries, backoff and reviews included.
    bind(
      d1.prepare(
        `${percentiles(stepValues("s.ended_at - s.started_at"), ["workflow_id", "node_id", "type"])} ORDER BY 1, 2`,
      ),
    ),
    // One attempt's duration: what the node itself took.
    bind(
      d1.prepare(
        `${percentiles(
          stepValues(
            "json_extract(h.value, '$.endedAt') - json_extract(h.value, '$.startedAt')",
            ", json_each(s.history) AS h",
          ),
          ["workflow_id", "node_id", "type"],
        )} ORDER BY 1, 2`,
      ),
    ),
    bind(
      d1.prepare(
        `SELECT r.workflow_id, s.node_id, SUM(MAX(s.attempts - 1, 0)) AS retries
         FROM runs r JOIN steps s ON s.run_id = r.id WHERE ${inWindow} GROUP BY 1, 2 HAVING retries > 0 ORDER BY 1, 2`,
      ),
    ),
    // Runs that reached needs_review: someone was asked (an approval link exists) or is being asked now.
    bind(
      d1.prepare(
        `SELECT COUNT(*) AS count FROM runs r WHERE ${inWindow} AND (r.status = 'needs_review'
           OR EXISTS (SELECT 1 FROM approvals a WHERE a.run_id = r.id)
           OR EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.status = 'needs_review'))`,
      ),
    ),
    // The dead-letter count is a level, not a rate: every failed run, whenever it was created.
    query.workflowId === undefined
      ? d1.prepare("SELECT COUNT(*) AS count FROM runs WHERE status = 'failed'")
      : d1
          .prepare("SELECT COUNT(*) AS count FROM runs WHERE status = 'failed' AND workflow_id = ?1")
          .bind(query.workflowId),
  ];
  // LLM usage as each run last checkpointed it.
  statements.push(
    bind(
      d1.prepare(
        `SELECT COALESCE(SUM(r.llm_input_tokens), 0) AS input, COALESCE(SUM(r.llm_output_tokens), 0) AS output,
                COALESCE(SUM(r.llm_cost_usd), 0) AS cost FROM runs r WHERE ${inWindow}`,
      ),
    ),
  );
  // Refused mail is not a run: counted by when it arrived, for the workflow it was meant for.
  statements.push(
    bind(
      d1.prepare(
        `SELECT code, COUNT(*) AS count FROM email_rejections
          WHERE received_at >= ?1 AND received_at < ?2${query.workflowId === undefined ? "" : " AND workflow_id = ?3"}
          GROUP BY code ORDER BY code`,
      ),
    ),
  );
  // Rate-limited triggers are not runs either: counted per minute as they arrived.
  statements.push(
    bind(
      d1.prepare(
        `SELECT kind, SUM(count) AS count FROM flow_refusals
          WHERE minute >= ?1 - (?1 % 60000) AND minute < ?2${query.workflowId === undefined ? "" : " AND workflow_id = ?3"}
          GROUP BY kind ORDER BY kind`,
      ),
    ),
  );
  const [runs, lag, steps, attempts, retries, reviewed, dead, llm, rejected, refused] = await d1.batch(statements);
  const usage = ((llm?.results ?? []) as { input: number; output: number; cost: number }[])[0];
  const rows = <T>(result: D1Result | undefined) => (result?.results ?? []) as T[];
  type StepRow = DistributionRow & { workflow_id: string; node_id: string; type: string };
  const stepStats = (row: StepRow): StepStats => ({
    workflowId: row.workflow_id,
    nodeId: row.node_id,
    type: row.type,
    ...distribution(row),
  });
  return {
    runs: rows<{ workflow_id: string; status: string; count: number }>(runs).map((row) => ({
      workflowId: row.workflow_id,
      status: row.status,
      count: row.count,
    })),
    queueLag: distribution(rows<DistributionRow>(lag)[0]),
    steps: rows<StepRow>(steps).map(stepStats),
    attempts: rows<StepRow>(attempts).map(stepStats),
    retries: rows<{ workflow_id: string; node_id: string; retries: number }>(retries).map((row) => ({
      workflowId: row.workflow_id,
      nodeId: row.node_id,
      retries: row.retries,
    })),
    reviewed: rows<{ count: number }>(reviewed)[0]?.count ?? 0,
    deadLetters: rows<{ count: number }>(dead)[0]?.count ?? 0,
    llm: {
      inputTokens: usage?.input ?? 0,
      outputTokens: usage?.output ?? 0,
      costUsd: usage?.cost ?? 0,
    },
    emailRejections: rows<{ code: string; count: number }>(rejected),
    flowRefusals: rows<{ kind: string; count: number }>(refused),
  };
}
