import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { asKey, makeKey } from "./access-support";
import { api, register, settle, startManual } from "./helpers";
import { approvalWorkflow, linkFor, openLink } from "./human-helpers";

async function waitingRun(id: string, human: Record<string, unknown> = {}) {
  await register(approvalWorkflow(id, human));
  const runId = await startManual(id, { item: "a desk", amount: 450 });
  expect((await settle(runId)).status).toBe("needs_review");
  return runId;
}

async function auditRows(runId: string) {
  const rows = await env.DB.prepare("SELECT outcome, decision, approver, details FROM approval_audit WHERE run_id = ?")
    .bind(runId)
    .all<{ outcome: string; decision: string | null; approver: string; details: string | null }>();
  return rows.results.map((row) => ({ ...row, details: row.details ? JSON.parse(row.details) : null }));
}

const decide = (runId: string, body: unknown, nodeId = "ask") =>
  api(`/api/runs/${runId}/approvals/${nodeId}`, { method: "POST", json: body });

async function errorCode(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe("POST /api/runs/:runId/approvals/:nodeId", () => {
  it("approves with an operator key: the run goes on, the audit names the key, the email link is spent", async () => {
    const runId = await waitingRun("api-decide-approve");
    const operator = await makeKey({ name: "ops desk", role: "operator" });
    const response = await asKey(operator.key, `/api/runs/${runId}/approvals/ask`, {
      method: "POST",
      json: { decision: "approve", comment: "fine by me" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      runId,
      nodeId: "ask",
      decision: "approve",
      approver: "ann@example.com",
      decidedBy: { kind: "key", id: operator.id, name: "ops desk" },
      runStatus: expect.any(String),
      stepStatus: "success",
    });
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.outcome).toBe("bought");
    expect(await auditRows(runId)).toEqual([
      {
        outcome: "accepted",
        decision: "approve",
        approver: "ann@example.com",
        details: {
          comment: "fine by me",
          edits: null,
          output: null,
          actor: { kind: "key", id: operator.id, name: "ops desk" },
        },
      },
    ]);
    expect((await openLink(await linkFor(runId, "ann@example.com"))).status).toBe(410);
    // Decided once: a second decision finds no one waiting.
    const again = await decide(runId, { decision: "reject" });
    expect(again.status).toBe(404);
    expect((await errorCode(again)).code).toBe("approval.not_found");
  });

  it("asks which approver when the step asks several, and spends the one named", async () => {
    const runId = await waitingRun("api-decide-several", { to: ["ann@example.com", "bob@example.com"] });
    const unnamed = await decide(runId, { decision: "reject" });
    expect(unnamed.status).toBe(400);
    const error = await errorCode(unnamed);
    expect(error.code).toBe("request.invalid");
    expect(error.message).toContain("ann@example.com, bob@example.com");
    const stranger = await decide(runId, { decision: "reject", approver: "eve@example.com" });
    expect(stranger.status).toBe(400);
    const named = await decide(runId, { decision: "reject", approver: "BOB@example.com", comment: "too dear" });
    expect(named.status).toBe(200);
    expect(await named.json()).toMatchObject({ approver: "bob@example.com", decision: "reject" });
    const report = await settle(runId);
    expect(report.context.outcome).toBe("declined");
  });

  it("refuses bad bodies, unknown runs and steps, and roles that may not act, deciding nothing", async () => {
    const runId = await waitingRun("api-decide-refusals");
    expect(await errorCode(await decide(runId, [1]))).toMatchObject({
      code: "request.invalid",
      message: "expected a JSON object {decision, comment?, edits?, output?, approver?}",
    });
    expect(await errorCode(await decide(runId, { decision: "maybe" }))).toMatchObject({
      code: "request.invalid",
      message: "decision must be approve, reject, retry, skip or fail",
    });
    // A decision the request does not offer is the run's refusal, as on the link's page.
    const offered = await decide(runId, { decision: "skip" });
    expect(offered.status).toBe(422);
    expect((await errorCode(offered)).code).toBe("approval.invalid");
    const noStep = await decide(runId, { decision: "approve" }, "prep");
    expect(noStep.status).toBe(404);
    const noRun = await decide("run_00000000000000000000000000", { decision: "approve" });
    expect(noRun.status).toBe(404);
    expect((await errorCode(noRun)).code).toBe("run.not_found");
    const viewer = await makeKey({ name: "watcher", role: "viewer" });
    const forbidden = await asKey(viewer.key, `/api/runs/${runId}/approvals/ask`, {
      method: "POST",
      json: { decision: "approve" },
    });
    expect(forbidden.status).toBe(403);
    expect((await settle(runId)).status).toBe("needs_review");
    expect((await auditRows(runId)).filter((row) => row.outcome === "accepted")).toEqual([]);
  });
});
