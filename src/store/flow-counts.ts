/** One more refused trigger for the workflow in the current minute (one upsert, off the response path). */
export async function countRefusal(d1: D1Database, workflowId: string, kind: string, now: number): Promise<void> {
  const minute = now - (now % 60_000);
  await d1
    .prepare(
      `INSERT INTO flow_refusals (workflow_id, kind, minute, count) VALUES (?1, ?2, ?3, 1)
       ON CONFLICT (workflow_id, kind, minute) DO UPDATE SET count = count + 1`,
    )
    .bind(workflowId, kind, minute)
    .run();
}
