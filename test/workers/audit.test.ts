import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AuditEntry, appendAudit } from "../../src/store/audit-log";
import { asKey, makeKey } from "./access-support";
import { csrfOf, page, signIn } from "./dashboard-support";
import { api, register, startManual } from "./helpers";
import { approvalWorkflow, decide, linkFor } from "./human-helpers";
import { expectError } from "./support";

interface Page {
  entries: AuditEntry[];
  cursor: string | null;
}

async function audit(query: string): Promise<Page> {
  const response = await api(`/api/audit?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
}

function waiting(id: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [{ id: "work", type: "wait", config: { duration: "1h" } }],
  };
}

const client = { "cf-connecting-ip": "203.0.113.7", "user-agent": "audit-test/1.0" };

describe("the audit trail", () => {
  it("records who cancelled a single run, from where, with the outcome", async () => {
    await register(waiting("audit-cancel"));
    const runId = await startManual("audit-cancel");
    const operator = await makeKey({ name: "on-call", role: "operator" });
    const response = await asKey(operator.key, `/api/runs/${runId}/cancel`, { method: "POST", headers: client });
    expect(response.status).toBe(200);

    const { entries } = await audit(`run=${runId}`);
    const cancel = entries.find((entry) => entry.action.endsWith("/cancel"));
    expect(cancel).toMatchObject({
      actor: { kind: "key", id: operator.id, name: "on-call" },
      action: "POST /api/runs/:runId/cancel",
      runId,
      status: 200,
      code: null,
      ip: "203.0.113.7",
      userAgent: "audit-test/1.0",
    });
    expect(cancel?.hash).toMatch(/^[0-9a-f]{64}$/);
    // The manual start that made the run was recorded against its workflow.
    const started = await audit("workflow=audit-cancel&action=POST%20/api/workflows/:id/runs");
    expect(started.entries).toHaveLength(1);
    expect(started.entries[0]).toMatchObject({ actor: { kind: "token", id: "api-token" }, status: 202 });
  });

  it("records refused requests with their code and the key id they claimed, and not reads", async () => {
    const viewer = await makeKey({ name: "auditor", role: "viewer" });
    await expectError(
      await asKey(viewer.key, "/api/workflows/x/disable", { method: "POST", headers: client }),
      403,
      "auth.forbidden",
    );
    const forged = `${viewer.key.slice(0, 31)}${"A".repeat(43)}`;
    await expectError(await asKey(forged, "/api/workflows", { headers: client }), 401, "auth.key_unknown");
    await expectError(
      await api("/api/workflows", { headers: { authorization: "Bearer nope" } }),
      401,
      "auth.invalid_token",
    );
    expect((await asKey(viewer.key, "/api/workflows")).status).toBe(200);

    const mine = await audit(`actor=${viewer.id}`);
    expect(mine.entries.map((entry) => [entry.action, entry.status, entry.code])).toEqual([
      ["GET /api/workflows", 401, "auth.key_unknown"],
      ["POST /api/workflows/:id/disable", 403, "auth.forbidden"],
    ]);
    expect(mine.entries[1]).toMatchObject({ actor: { name: "auditor" }, workflowId: "x" });
    // The forged secret claimed the key's id: recorded with no name, since it proved nothing.
    expect(mine.entries[0]?.actor).toEqual({ kind: "key", id: viewer.id, name: null });
    const anonymous = await audit("action=GET%20/api/workflows");
    expect(
      anonymous.entries.some((entry) => entry.actor.kind === "anonymous" && entry.code === "auth.invalid_token"),
    ).toBe(true);
    // Only admins read the trail; the refusal is itself recorded.
    await expectError(await asKey(viewer.key, "/api/audit"), 403, "auth.forbidden");
    await expectError(await asKey(viewer.key, "/api/audit/verify"), 403, "auth.forbidden");
  });

  it("records dashboard forms and approval links with who acted", async () => {
    await register(approvalWorkflow("audit-approval"));
    const runId = await startManual("audit-approval", { item: "chairs", amount: 120 });
    const link = await linkFor(runId, "ann@example.com");
    expect((await decide(link, { decision: "approve" })).status).toBe(200);
    const again = await decide(link, { decision: "reject" }, { csrf: "0".repeat(64) });
    expect(again.status).toBe(410);

    const { entries } = await audit(`run=${runId}&actor=ann@example.com`);
    expect(entries.map((entry) => [entry.action, entry.status, entry.code])).toEqual([
      ["POST /approvals/:token", 410, "approval.used"],
      ["POST /approvals/:token", 200, null],
    ]);
    expect(entries[0]?.actor).toEqual({ kind: "approver", id: "ann@example.com", name: "ann@example.com" });

    await register(waiting("audit-dashboard"));
    const cookie = await signIn();
    const csrf = await csrfOf(cookie);
    const started = await page("/ui/workflows/audit-dashboard/runs", { cookie, form: { csrf, input: "{}" } });
    expect(started.status).toBe(303);
    const forged = await page("/ui/workflows/audit-dashboard/disable", { cookie, form: { csrf: "f".repeat(64) } });
    expect(forged.status).toBe(403);
    const dashboard = await audit("workflow=audit-dashboard");
    expect(dashboard.entries.map((entry) => [entry.action, entry.status, entry.code, entry.actor.kind])).toEqual([
      ["POST /ui/workflows/:id/:change{enable|disable}", 403, "form.token_refused", "session:token"],
      ["POST /ui/workflows/:id/runs", 303, null, "session:token"],
      ["POST /api/workflows", 201, null, "token"],
    ]);
    const logins = await audit("action=POST%20/ui/login&actor=api-token");
    expect(logins.entries.length).toBeGreaterThan(0);
  });

  it("pages by cursor and filters by time", async () => {
    const before = Date.now();
    for (let index = 0; index < 5; index++) {
      await api(`/api/workflows/paging-${index}/disable`, { method: "POST" });
    }
    const first = await audit(`from=${before}&action=POST%20/api/workflows/:id/disable&limit=2`);
    expect(first.entries).toHaveLength(2);
    expect(first.cursor).not.toBeNull();
    const second = await audit(
      `from=${before}&action=POST%20/api/workflows/:id/disable&limit=2&cursor=${first.cursor}`,
    );
    const third = await audit(
      `from=${before}&action=POST%20/api/workflows/:id/disable&limit=2&cursor=${second.cursor}`,
    );
    const seen = [...first.entries, ...second.entries, ...third.entries].map((entry) => entry.workflowId);
    expect(seen).toEqual(["paging-4", "paging-3", "paging-2", "paging-1", "paging-0"]);
    expect(third.cursor).toBeNull();
    expect((await audit(`to=${before}&workflow=paging-0`)).entries).toHaveLength(0);
    expect((await audit(`from=${before}&workflow=paging-0`)).entries).toHaveLength(1);
    const iso = new Date(before).toISOString();
    expect((await audit(`from=${iso}&action=POST%20/api/workflows/:id/disable`)).entries).toHaveLength(5);
    await expectError(await api("/api/audit?from=yesterday"), 400, "request.invalid");
    await expectError(await api("/api/audit?cursor=abc"), 400, "request.invalid");
  });

  it("keeps one chain under concurrent writers", async () => {
    const records = Array.from({ length: 25 }, (_, index) => ({
      at: Date.now(),
      actor: { kind: "anonymous" as const, id: null, name: null },
      action: `TEST concurrent ${index}`,
      workflowId: null,
      runId: null,
      status: 200,
      code: null,
      ip: null,
      userAgent: null,
    }));
    const written = await Promise.all(records.map((record) => appendAudit(env.DB, record)));
    const seqs = written.map((entry) => entry.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(25);
    expect((seqs.at(-1) ?? 0) - (seqs[0] ?? 0)).toBe(24);
    const verified = (await (await api("/api/audit/verify")).json()) as { ok: boolean; checked: number; next: null };
    expect(verified).toMatchObject({ ok: true, next: null });
    // Walks of a few entries at a time, each from where the last stopped, check the same entries.
    let from: number | null = 1;
    let total = 0;
    while (from !== null) {
      const part = (await (await api(`/api/audit/verify?from=${from}&limit=7`)).json()) as {
        ok: boolean;
        checked: number;
        next: number | null;
      };
      expect(part.ok).toBe(true);
      total += part.checked;
      from = part.next;
    }
    expect(total).toBe(verified.checked);
    await expectError(await api("/api/audit/verify?limit=0"), 400, "request.invalid");
  });

  it("cannot be changed through D1 updates, and verify names an entry tampered with underneath", async () => {
    const ok = (await (await api("/api/audit/verify")).json()) as { ok: boolean; checked: number; last: number };
    expect(ok).toMatchObject({ ok: true });
    expect(ok.checked).toBeGreaterThan(10);
    const target = ok.last - 3;
    await expect(env.DB.prepare("UPDATE audit_log SET status = 200 WHERE seq = ?").bind(target).run()).rejects.toThrow(
      /append-only/,
    );
    // Someone with raw access to the database drops the guard and rewrites an entry.
    await env.DB.prepare("DROP TRIGGER audit_log_append_only").run();
    await env.DB.prepare("UPDATE audit_log SET actor_name = 'somebody else' WHERE seq = ?").bind(target).run();
    const tampered = (await (await api("/api/audit/verify")).json()) as {
      ok: boolean;
      broken: { seq: number; reason: string };
    };
    expect(tampered).toMatchObject({ ok: false, broken: { seq: target, reason: "hash_mismatch" } });
    // A walk from the changed entry finds it; one that starts after it does not look at it.
    const walk = async (from: number) =>
      (await (await api(`/api/audit/verify?from=${from}`)).json()) as { ok: boolean; broken?: { seq: number } };
    expect(await walk(target)).toMatchObject({ ok: false, broken: { seq: target, reason: "hash_mismatch" } });
    expect(await walk(target + 1)).toMatchObject({ ok: true });
    // Removing an entry instead breaks the chain at the one after it.
    await env.DB.prepare("DELETE FROM audit_log WHERE seq = ?").bind(target).run();
    const removed = (await (await api("/api/audit/verify")).json()) as {
      ok: boolean;
      broken: { seq: number; reason: string };
    };
    expect(removed).toMatchObject({ ok: false, broken: { seq: target + 1, reason: "gap" } });
  });
});
