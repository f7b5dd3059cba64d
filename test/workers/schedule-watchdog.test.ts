import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { derivedId } from "../../src/lib/ids";
import type { ScheduleState } from "../../src/triggers/schedule-object";
import { api, register, settle } from "./helpers";
import { definition, runIdsOf, runWatchdog, scheduleObject, scheduleStub } from "./trigger-support";

// The watchdog acts on every schedule in this file's database: it is run at times relative to
// each test's own ticks. Schedules fire once a day, half a day from now, so no alarm goes off by
// itself while the tests run.
const minute = 60_000;
const day = 24 * 60 * minute;
const later = Date.now() + 12 * 60 * minute;

/** A daily cron at half a day from now, shifted by `offset` minutes. */
function daily(offset = 0): string {
  const at = new Date(later + offset * minute);
  return `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
}

async function schedule(workflowId: string): Promise<ScheduleState> {
  const response = await api(`/api/workflows/${workflowId}/schedule`);
  if (response.status !== 200) throw new Error(`GET schedule: ${response.status} ${await response.text()}`);
  return response.json();
}

function dailyLater(id: string, trigger: Record<string, unknown> = {}) {
  return definition(id, [{ type: "schedule", cron: daily(), ...trigger }]);
}

async function alarmOf(workflowId: string): Promise<number | null> {
  return runInDurableObject(scheduleObject(workflowId), (_instance, state) => state.storage.getAlarm());
}

describe("the scheduled handler as a watchdog", () => {
  it("fires a tick whose alarm went missing, and re-arms the alarm", async () => {
    await register(dailyLater("wd-lost-alarm"));
    const { nextAt: tick } = await schedule("wd-lost-alarm");
    await runInDurableObject(scheduleObject("wd-lost-alarm"), (_instance, state) => state.storage.deleteAlarm());
    expect(await alarmOf("wd-lost-alarm")).toBeNull();

    // A minute and a half late: still within the grace period, so even `skip` fires it.
    await runWatchdog((tick as number) + 90_000);

    const after = await schedule("wd-lost-alarm");
    expect(after.recent).toEqual([expect.objectContaining({ tick, status: "queued" })]);
    expect(after.nextAt).toBe((tick as number) + day);
    expect(await alarmOf("wd-lost-alarm")).toBe((tick as number) + day);
    const report = await settle(after.recent[0]?.runId as string);
    expect(report.trigger).toMatchObject({ type: "schedule", scheduledAt: tick, lateMs: 90_000 });
  });

  it("leaves a schedule whose alarm is on time alone", async () => {
    await register(dailyLater("wd-on-time"));
    const { nextAt: tick } = await schedule("wd-on-time");
    await runWatchdog(tick as number);
    expect((await schedule("wd-on-time")).recent).toEqual([]);
    expect(await alarmOf("wd-on-time")).toBe(tick);
  });

  it("starts one run when the watchdog and the alarm fire the same tick", async () => {
    await register(dailyLater("wd-doubled"));
    const { nextAt } = await schedule("wd-doubled");
    const tick = nextAt as number;
    const runId = await derivedId("run", tick, `schedule:wd-doubled:${tick}`);

    // Both paths at once: the watchdog finds the tick overdue while the alarm goes off.
    await Promise.all([runWatchdog(tick + 61_000), runDurableObjectAlarm(scheduleObject("wd-doubled"))]);
    // And again after both the object and the D1 mirror forgot the tick was handled.
    await runInDurableObject(scheduleObject("wd-doubled"), (_instance, state) => {
      state.storage.sql.exec("UPDATE schedule SET next_at = ? WHERE id = 1", tick);
    });
    await env.DB.prepare("UPDATE schedules SET next_at = ? WHERE workflow_id = ?").bind(tick, "wd-doubled").run();
    await Promise.all([runWatchdog(tick + 61_000), scheduleStub(env, "wd-doubled").fireDue(tick)]);

    await settle(runId);
    expect(await runIdsOf("wd-doubled")).toEqual([runId]);
    expect((await schedule("wd-doubled")).recent).toEqual([
      expect.objectContaining({ tick, runId, status: "duplicate" }),
    ]);
  });

  it("catches up a schedule whose object missed a new version", async () => {
    await register(dailyLater("wd-version"));
    const v1 = await schedule("wd-version");
    await register(definition("wd-version", [{ type: "schedule", cron: daily(2) }]));
    // Back to version 1 in the object and its D1 mirror, as if the configure call had been lost.
    await runInDurableObject(scheduleObject("wd-version"), (_instance, state) => {
      const config = JSON.stringify({ ...v1, version: 1, cron: daily() });
      state.storage.sql.exec("UPDATE schedule SET config = ?, next_at = ? WHERE id = 1", config, v1.nextAt);
    });
    await env.DB.prepare("UPDATE schedules SET armed_version = 1 WHERE workflow_id = ?").bind("wd-version").run();

    await runWatchdog(Date.now());

    const after = await schedule("wd-version");
    expect(after).toMatchObject({ version: 2, cron: daily(2) });
    expect(after.nextAt).toBe((v1.nextAt as number) + 2 * minute);
    const mirror = await env.DB.prepare("SELECT armed_version FROM schedules WHERE workflow_id = ?")
      .bind("wd-version")
      .first<{ armed_version: number }>();
    expect(mirror?.armed_version).toBe(2);
  });
});
