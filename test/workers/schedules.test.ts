import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { derivedId } from "../../src/lib/ids";
import type { ScheduleState } from "../../src/triggers/schedule-object";
import { api, register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, runIdsOf, scheduleObject, scheduleStub } from "./trigger-support";

const minute = 60_000;
const hour = 60 * minute;
/** On the hour, a year ahead: alarms set around it never go off by themselves during a test. */
const base = Math.ceil((Date.now() + 365 * 24 * hour) / hour) * hour;

interface ScheduleBody extends Omit<ScheduleState, "alarmAt"> {
  alarmAt: number | null;
  enabled: boolean;
}

async function schedule(workflowId: string): Promise<ScheduleBody> {
  const response = await api(`/api/workflows/${workflowId}/schedule`);
  if (response.status !== 200) throw new Error(`GET schedule: ${response.status} ${await response.text()}`);
  return response.json();
}

function scheduled(id: string, trigger: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return definition(id, [{ type: "schedule", cron: "0 * * * *", ...trigger }], extra);
}

async function alarmOf(workflowId: string): Promise<number | null> {
  return runInDurableObject(scheduleObject(workflowId), (_instance, state) => state.storage.getAlarm());
}

/** Puts the object's next tick back to `tick`, as if the tick had not been handled. */
async function rewind(workflowId: string, tick: number): Promise<void> {
  await runInDurableObject(scheduleObject(workflowId), (_instance, state) => {
    state.storage.sql.exec("UPDATE schedule SET next_at = ? WHERE id = 1", tick);
  });
}

/** Starts the schedule afresh as if it had been registered at `now` (an unchanged cron keeps its tick otherwise). */
async function configured(workflowId: string, now: number) {
  const current = await schedule(workflowId);
  const { workflowId: id, version, cron, timezone, missed, catchUpLimit } = current;
  await scheduleStub(env, workflowId).stop();
  const state = await scheduleStub(env, workflowId).configure(
    { workflowId: id, version, cron, timezone, missed, catchUpLimit },
    now,
  );
  expect(state.nextAt).toBe(now + hour);
  return state;
}

describe("schedule triggers", () => {
  it("an unchanged registration leaves the schedule alone: same version, same tick, same row", async () => {
    const register = () => api("/api/workflows", { method: "POST", json: scheduled("sched-same") });
    const first = (await (await register()).json()) as { version: number; schedule: { nextAt: number } };
    const row = () =>
      env.DB.prepare("SELECT version, updated_at AS updatedAt FROM schedules WHERE workflow_id = ?")
        .bind("sched-same")
        .first();
    const before = await row();
    const alarm = await alarmOf("sched-same");
    const response = await register();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      version: first.version,
      unchanged: true,
      schedule: { nextAt: first.schedule.nextAt },
    });
    expect(await row()).toEqual(before);
    expect(await schedule("sched-same")).toMatchObject({ version: first.version, nextAt: first.schedule.nextAt });
    expect(await alarmOf("sched-same")).toBe(alarm);
  });

  it("fires the next tick from the schedule object's alarm", async () => {
    const before = Date.now();
    const response = await api("/api/workflows", { method: "POST", json: scheduled("sched-alarm") });
    const body = (await response.json()) as { version: number; schedule: { nextAt: number } };
    expect(response.status).toBe(201);
    const tick = body.schedule.nextAt;
    expect(tick % hour).toBe(0);
    expect(tick).toBeGreaterThan(before);
    expect(tick - before).toBeLessThanOrEqual(hour);
    expect(await schedule("sched-alarm")).toMatchObject({ nextAt: tick, alarmAt: tick, enabled: true, recent: [] });

    expect(await runDurableObjectAlarm(scheduleObject("sched-alarm"))).toBe(true);

    const after = await schedule("sched-alarm");
    expect(after).toMatchObject({ nextAt: tick + hour, alarmAt: tick + hour, lastTickAt: tick });
    expect(after.recent).toHaveLength(1);
    const fired = after.recent[0];
    // The run id is derived from the workflow and the tick: every path that fires the tick names it.
    expect(fired).toMatchObject({ tick, status: "queued", error: null });
    expect(fired?.runId).toBe(await derivedId("run", tick, `schedule:sched-alarm:${tick}`));
    const report = await settle(fired?.runId as string);
    expect(report.status).toBe("success");
    expect(report.input).toEqual({ scheduledTime: new Date(tick).toISOString(), cron: "0 * * * *", timezone: null });
    expect(report.trigger).toMatchObject({ type: "schedule", id: String(tick), scheduledAt: tick, lateMs: 0 });
  });

  it("starts one run per tick when the same tick fires again", async () => {
    await register(scheduled("sched-twice"));
    const tick = (await schedule("sched-twice")).nextAt as number;
    await runDurableObjectAlarm(scheduleObject("sched-twice"));
    const [first] = (await schedule("sched-twice")).recent;
    await settle(first?.runId as string);

    // The alarm and a direct fire of the same tick, at once, after the object forgot it fired it.
    await rewind("sched-twice", tick);
    await Promise.all([
      runDurableObjectAlarm(scheduleObject("sched-twice")),
      scheduleStub(env, "sched-twice").fireDue(tick),
    ]);
    // Again with the D1 dedup key expired and gone: the derived run id still names the same run.
    await env.DB.prepare("DELETE FROM dedup_keys WHERE workflow_id = ?").bind("sched-twice").run();
    await rewind("sched-twice", tick);
    await scheduleStub(env, "sched-twice").fireDue(tick);

    const after = await schedule("sched-twice");
    expect(after.recent).toEqual([expect.objectContaining({ tick, runId: first?.runId, status: "duplicate" })]);
    expect(after.nextAt).toBe(tick + hour);
    expect(await runIdsOf("sched-twice")).toEqual([first?.runId]);
  });

  describe("missed ticks after downtime, with an injected clock", () => {
    // Configured at `base`: the next tick is base + 1h. Woken at base + 5h30: five ticks came due.
    const wake = base + 5 * hour + 30 * minute;

    it("skip drops the late ticks", async () => {
      await register(scheduled("sched-skip", { missed: "skip" }));
      await configured("sched-skip", base);
      const state = await scheduleStub(env, "sched-skip").fireDue(wake);
      expect(state).toMatchObject({ nextAt: base + 6 * hour, recent: [] });
      expect(await runIdsOf("sched-skip")).toEqual([]);
    });

    it("skip still fires a tick that is late by less than the grace period", async () => {
      await register(scheduled("sched-skip-grace", { missed: "skip" }));
      await configured("sched-skip-grace", base);
      const state = await scheduleStub(env, "sched-skip-grace").fireDue(base + 5 * hour + minute);
      expect(state?.recent.map((entry) => entry.tick)).toEqual([base + 5 * hour]);
      expect(state?.recent[0]).toMatchObject({ status: "queued" });
    });

    it("latest fires only the newest due tick", async () => {
      await register(scheduled("sched-latest", { missed: "latest" }));
      await configured("sched-latest", base);
      const state = await scheduleStub(env, "sched-latest").fireDue(wake);
      expect(state?.recent.map((entry) => entry.tick)).toEqual([base + 5 * hour]);
      expect(state?.nextAt).toBe(base + 6 * hour);
    });

    it("all catches up oldest first, bounded by catchUpLimit", async () => {
      await register(scheduled("sched-all", { missed: "all", catchUpLimit: 3 }));
      await configured("sched-all", base);
      const state = await scheduleStub(env, "sched-all").fireDue(wake);
      const ticks = [base + 3 * hour, base + 4 * hour, base + 5 * hour];
      expect(state?.recent.map((entry) => entry.tick)).toEqual([...ticks].reverse());
      expect(state?.nextAt).toBe(base + 6 * hour);
      const reports = await Promise.all((state?.recent ?? []).map((entry) => settle(entry.runId)));
      expect(reports.map((report) => report.input)).toEqual(
        [...ticks].reverse().map((tick) => expect.objectContaining({ scheduledTime: new Date(tick).toISOString() })),
      );
      expect(reports.map((report) => (report.trigger as { lateMs: number }).lateMs)).toEqual([
        30 * minute,
        90 * minute,
        150 * minute,
      ]);
      expect(await runIdsOf("sched-all")).toHaveLength(3);
    });
  });

  it("records a tick its input schema rejects and moves on", async () => {
    await register(scheduled("sched-rejected", { schema: { type: "object", required: ["customer"] } }));
    await configured("sched-rejected", base);
    const state = await scheduleStub(env, "sched-rejected").fireDue(base + hour);
    expect(state?.recent).toEqual([
      expect.objectContaining({
        tick: base + hour,
        status: "rejected",
        error: expect.objectContaining({ code: "run.input_invalid" }),
      }),
    ]);
    expect(state?.nextAt).toBe(base + 2 * hour);
    expect(await runIdsOf("sched-rejected")).toEqual([]);
  });

  it("maps the tick into the run's input", async () => {
    await register(
      scheduled("sched-mapped", { input: "{ 'day': $substring(body.scheduledTime, 0, 10), 'kind': 'nightly' }" }),
    );
    await configured("sched-mapped", base);
    const state = await scheduleStub(env, "sched-mapped").fireDue(base + hour);
    const report = await settle(state?.recent[0]?.runId as string);
    expect(report.input).toEqual({ day: new Date(base + hour).toISOString().slice(0, 10), kind: "nightly" });
  });

  it("reads the cron in the schedule's time zone", async () => {
    const response = await api("/api/workflows", {
      method: "POST",
      json: scheduled("sched-zone", { cron: "0 9 * * *", timezone: "America/New_York" }),
    });
    const { schedule: armed } = (await response.json()) as { schedule: { nextAt: number } };
    const local = new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    }).format(armed.nextAt);
    expect(local).toBe("09:00");
  });

  it("reschedules when a new version changes the cron, and keeps the next tick when it does not", async () => {
    await register(scheduled("sched-versions"));
    const v1 = await schedule("sched-versions");
    expect((v1.nextAt as number) % hour).toBe(0);

    await register(scheduled("sched-versions", { cron: "30 * * * *" }));
    const v2 = await schedule("sched-versions");
    expect(v2).toMatchObject({ version: 2, cron: "30 * * * *" });
    expect((v2.nextAt as number) % hour).toBe(30 * minute);
    expect(v2.alarmAt).toBe(v2.nextAt);

    await register(scheduled("sched-versions", { cron: "30 * * * *", missed: "all" }, { description: "v3" }));
    const v3 = await schedule("sched-versions");
    expect(v3).toMatchObject({ version: 3, missed: "all", nextAt: v2.nextAt });

    // A version without a schedule trigger stops the object.
    await register(definition("sched-versions", [{ type: "manual" }]));
    await expectError(await api("/api/workflows/sched-versions/schedule"), 404, "schedule.not_found");
    expect(await alarmOf("sched-versions")).toBeNull();
    expect(await scheduleStub(env, "sched-versions").state()).toBeNull();
  });

  it("stops when the workflow is deleted, and starts again when it is registered anew", async () => {
    await register(scheduled("sched-deleted"));
    const response = await api("/api/workflows/sched-deleted", { method: "DELETE" });
    expect([response.status, await response.json()]).toEqual([200, { workflowId: "sched-deleted", deleted: true }]);
    expect(await alarmOf("sched-deleted")).toBeNull();
    expect(await runDurableObjectAlarm(scheduleObject("sched-deleted"))).toBe(false);
    await expectError(await api("/api/workflows/sched-deleted"), 404, "workflow.not_found");
    await expectError(await api("/api/workflows/sched-deleted/schedule"), 404, "workflow.not_found");
    await expectError(await api("/api/workflows/sched-deleted", { method: "DELETE" }), 404, "workflow.not_found");
    const list = (await (await api("/api/workflows")).json()) as { workflows: { workflowId: string }[] };
    expect(list.workflows.map((entry) => entry.workflowId)).not.toContain("sched-deleted");

    await register(scheduled("sched-deleted"));
    const revived = await schedule("sched-deleted");
    expect(revived).toMatchObject({ version: 2, enabled: true });
    expect(revived.alarmAt).toBe(revived.nextAt);
  });

  it("stops while disabled and resumes from the next tick when enabled", async () => {
    await register(scheduled("sched-disabled"));
    const disabled = await api("/api/workflows/sched-disabled/disable", { method: "POST" });
    expect([disabled.status, await disabled.json()]).toEqual([200, { workflowId: "sched-disabled", enabled: false }]);
    expect(await alarmOf("sched-disabled")).toBeNull();
    expect(await schedule("sched-disabled")).toMatchObject({ enabled: false, alarmAt: null });
    const workflow = (await (await api("/api/workflows/sched-disabled")).json()) as { enabled: boolean };
    expect(workflow.enabled).toBe(false);

    // A new version registered while disabled does not arm the schedule.
    await register(scheduled("sched-disabled", { cron: "15 * * * *" }));
    expect(await alarmOf("sched-disabled")).toBeNull();

    const enabled = await api("/api/workflows/sched-disabled/enable", { method: "POST" });
    const body = (await enabled.json()) as { enabled: boolean; schedule: { nextAt: number } };
    expect(body.enabled).toBe(true);
    expect(body.schedule.nextAt % hour).toBe(15 * minute);
    expect(await alarmOf("sched-disabled")).toBe(body.schedule.nextAt);
  });

  it("stops itself at its alarm when the workflow is gone", async () => {
    await register(scheduled("sched-orphan"));
    // Deleted behind the object's back (as if the stop call had been lost).
    await env.DB.prepare("UPDATE workflows SET deleted_at = ? WHERE id = ?").bind(Date.now(), "sched-orphan").run();
    expect(await runDurableObjectAlarm(scheduleObject("sched-orphan"))).toBe(true);
    expect(await scheduleStub(env, "sched-orphan").state()).toBeNull();
    expect(await alarmOf("sched-orphan")).toBeNull();
    expect(await runIdsOf("sched-orphan")).toEqual([]);
  });

  it("adopts a newer version at its alarm when it was not told about it", async () => {
    await register(scheduled("sched-stale-config"));
    const v1 = await schedule("sched-stale-config");
    await register(scheduled("sched-stale-config", { cron: "45 * * * *" }));
    // Put the object back on version 1, as if the configure call after v2 had been lost.
    await runInDurableObject(scheduleObject("sched-stale-config"), async (_instance, state) => {
      const config = JSON.stringify({ ...v1, version: 1, cron: "0 * * * *" });
      state.storage.sql.exec("UPDATE schedule SET config = ?, next_at = ? WHERE id = 1", config, v1.nextAt);
      await state.storage.setAlarm(v1.nextAt as number);
    });
    await runDurableObjectAlarm(scheduleObject("sched-stale-config"));
    const after = await schedule("sched-stale-config");
    expect(after).toMatchObject({ version: 2, cron: "45 * * * *", recent: [] });
    expect((after.nextAt as number) % hour).toBe(45 * minute);
  });

  describe("invalid schedules", () => {
    it.each([
      ["0 * * *", "definition.cron_invalid", ["triggers", 0, "cron"]],
      ["0 9 * * 0", "definition.cron_invalid", ["triggers", 0, "cron"]],
      ["0 0 31 2 *", "definition.cron_invalid", ["triggers", 0, "cron"]],
    ])("rejects %j with %s", async (cron, code, path) => {
      const body = await expectError(
        await api("/api/workflows", { method: "POST", json: scheduled("sched-invalid", { cron }) }),
        422,
        code,
      );
      expect((body.error.details as { issues: { path: unknown[] }[] }).issues[0]?.path).toEqual(path);
    });

    it("names Cloudflare's weekday numbering when a weekday is 0", async () => {
      const body = await expectError(
        await api("/api/workflows", { method: "POST", json: scheduled("sched-invalid", { cron: "0 9 * * 0" }) }),
        422,
        "definition.cron_invalid",
      );
      expect(body.error.message).toContain("1 = Sunday");
    });

    it("rejects an unknown time zone, a missed policy and a second schedule", async () => {
      await expectError(
        await api("/api/workflows", {
          method: "POST",
          json: scheduled("sched-invalid", { timezone: "Mars/Olympus_Mons" }),
        }),
        422,
        "definition.timezone_invalid",
      );
      await expectError(
        await api("/api/workflows", { method: "POST", json: scheduled("sched-invalid", { missed: "sometimes" }) }),
        422,
        "definition.invalid",
      );
      const two = definition("sched-invalid", [
        { type: "schedule", cron: "0 * * * *" },
        { type: "schedule", cron: "30 * * * *" },
      ]);
      await expectError(await api("/api/workflows", { method: "POST", json: two }), 422, "definition.invalid");
      await expectError(await api("/api/workflows/sched-invalid"), 404, "workflow.not_found");
    });
  });
});
