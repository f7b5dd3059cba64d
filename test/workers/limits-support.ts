import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LimitObject } from "../../src/limits/limit-object";
import { limitStub } from "../../src/limits/limit-stub";
import type { ExecutionReport } from "../../src/run/report";
import type { RunObject } from "../../src/run/run-object";
import { settle } from "./helpers";
import { llmServer } from "./llm-helpers";
import { fireAlarm, runObject } from "./support";

/** A limit's object with its clock set by the test (no waiting for turns or cool-downs). */
export function limitObject(name: string) {
  const object = () => env.LIMITERS.get(env.LIMITERS.idFromName(name));
  return {
    name,
    stub: limitStub(env, name),
    setClock: (at: number) =>
      runInDurableObject(object(), (instance: LimitObject) => {
        instance.clock = () => at;
      }),
    turns: () =>
      runInDurableObject(object(), (_instance: LimitObject, state) =>
        state.storage.sql.exec<{ key: string; at: number }>("SELECT key, at FROM turns ORDER BY at").toArray(),
      ),
  };
}

/** Runs' next alarm times (null: none set). */
export function nextAlarm(runId: string): Promise<number | null> {
  return runInDurableObject(runObject(runId), (_instance: RunObject, state) => state.storage.getAlarm());
}

const ended = ["success", "failed", "cancelled"];

/**
 * Drives runs to their ends without waiting: over and over, takes the run whose alarm comes
 * first, moves the clocks (limit objects, the LLM server's) to that time and fires the alarm.
 * Returns the final reports and the times the alarms were fired for.
 */
export async function driveToEnd(
  runIds: string[],
  setClocks: (at: number) => Promise<void>,
  maxAlarms = 60,
): Promise<{ reports: ExecutionReport[]; fired: number[] }> {
  const fired: number[] = [];
  for (let round = 0; round <= maxAlarms; round += 1) {
    const reports = await Promise.all(runIds.map((runId) => settle(runId)));
    const open = reports.filter((report) => !ended.includes(report.status));
    if (open.length === 0) return { reports, fired };
    const alarms = await Promise.all(
      open.map(async (report) => ({ runId: report.runId, at: await nextAlarm(report.runId) })),
    );
    const next = alarms
      .filter((entry): entry is { runId: string; at: number } => entry.at !== null)
      .sort((a, b) => a.at - b.at)[0];
    if (!next) throw new Error(`runs ${open.map((report) => report.runId).join(", ")} are open with no alarm`);
    await setClocks(next.at);
    fired.push(next.at);
    await fireAlarm(next.runId);
  }
  throw new Error(`runs did not end within ${maxAlarms} alarms`);
}

/** The scripted LLM server's per-model clock and quota (test/support/llm-server.ts). */
export const llmQuota = {
  async clock(model: string, at: number): Promise<void> {
    const response = await fetch(`${llmServer.url}/__llm/clock`, {
      method: "POST",
      body: JSON.stringify({ model, at }),
    });
    if (response.status !== 200) throw new Error(`clock refused: ${response.status}`);
  },
  async quota(model: string, requestsPerMinute: number): Promise<void> {
    const response = await fetch(`${llmServer.url}/__llm/quota`, {
      method: "POST",
      body: JSON.stringify({ model, requestsPerMinute }),
    });
    if (response.status !== 200) throw new Error(`quota refused: ${response.status}`);
  },
};

/** The most requests any window of a minute holds, over the given times. */
export function busiestMinute(times: number[]): number {
  return Math.max(0, ...times.map((start) => times.filter((at) => at >= start && at < start + 60_000).length));
}
