import { describe, expect, it } from "vitest";
import { register, settle, startManual } from "./helpers";
import { decide, linkFor, openLink, outbox } from "./human-helpers";
import { fireAlarm, testServer } from "./support";

/** An http node that fails twice, escalating to ops once its two attempts are spent. */
function flaky(id: string, path: string, retry: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    reviewers: ["ops@example.com"],
    nodes: [
      {
        id: "call",
        type: "http",
        config: { method: "POST", url: `${testServer.url}${path}`, output: "called", map: "body" },
        retry: { maxAttempts: 2, initialDelay: "1s", escalateAfter: 2, ...retry },
      },
      { id: "after", type: "transform", config: { set: { done: "true" } } },
    ],
    edges: [{ from: "call", to: "after" }],
  };
}

async function escalated(id: string, retry: Record<string, unknown> = {}) {
  const path = `/escalation/${id}`;
  await testServer.script(path, [{ status: 500 }, { status: 500 }, { status: 200, body: { ok: "third time" } }]);
  await register(flaky(id, path, retry));
  const runId = await startManual(id);
  expect((await settle(runId)).status).toBe("waiting");
  // The retry backoff is a timer: firing the alarm runs attempt 2, which fails and escalates.
  expect(await fireAlarm(runId)).toBe(true);
  const report = await settle(runId);
  expect(report.status).toBe("needs_review");
  return { runId, path, report };
}

describe("review escalation when a node's attempts run out", () => {
  it("puts the step in needs_review and mails the reviewers a link offering retry, skip and fail", async () => {
    const { runId, report } = await escalated("esc-mail");
    const call = report.steps.find((step) => step.nodeId === "call");
    expect(call).toMatchObject({
      status: "needs_review",
      attempts: 2,
      error: { code: "node.http_status" },
      review: { kind: "escalation", approvers: ["ops@example.com"] },
    });
    const [message] = await outbox(runId);
    expect(message).toMatchObject({ to: "ops@example.com", subject: `Review needed: step call of esc-mail failed` });
    const page = await (await openLink(message?.links[0] ?? "")).text();
    for (const decision of ["retry", "skip", "fail"]) expect(page).toContain(`value="${decision}"`);
    expect(page).toContain("node.http_status");
    expect(page).toContain("keys from: called");
  });

  it("retry runs the node again and the run finishes", async () => {
    const { runId, path } = await escalated("esc-retry");
    const response = await decide(await linkFor(runId, "ops@example.com"), { decision: "retry" });
    expect(response.status).toBe(200);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context.called).toEqual({ ok: "third time" });
    expect(report.steps[0]).toMatchObject({ attempts: 3, status: "success" });
    expect(await testServer.requests(path)).toHaveLength(3);
  });

  it("skip writes the reviewer's output in the node's stead", async () => {
    const { runId } = await escalated("esc-skip");
    const link = await linkFor(runId, "ops@example.com");
    const stray = await decide(link, { decision: "skip", output: '{"other": 1}' });
    expect(stray.status).toBe(422);
    expect(await stray.text()).toContain("not: other");
    const response = await decide(link, { decision: "skip", output: '{"called": {"ok": "by hand"}}' });
    expect(response.status).toBe(200);
    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.context).toMatchObject({ called: { ok: "by hand" }, done: true });
  });

  it("fail fails the run with the reviewer's comment", async () => {
    const { runId } = await escalated("esc-fail");
    await decide(await linkFor(runId, "ops@example.com"), { decision: "fail", comment: "vendor is down" });
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({ code: "review.failed", nodeId: "call" });
    expect((report.error as { message: string }).message).toContain("vendor is down");
  });

  it("an escalation nobody answers fails the run when it expires (alarm)", async () => {
    const { runId } = await escalated("esc-expire", { escalationExpiresIn: "1h", escalateTo: ["lead@example.com"] });
    expect((await outbox(runId)).map((message) => message.to)).toEqual(["lead@example.com"]);
    expect(await fireAlarm(runId)).toBe(true);
    const report = await settle(runId);
    expect(report.status).toBe("failed");
    expect(report.error).toMatchObject({
      code: "review.expired",
      details: { original: { code: "node.http_status" } },
    });
  });

  it("escalates at the threshold even when more attempts are allowed", async () => {
    const path = "/escalation/threshold";
    await testServer.script(path, [{ status: 500 }]);
    await register(flaky("esc-threshold", path, { maxAttempts: 5, escalateAfter: 1 }));
    const runId = await startManual("esc-threshold");
    const report = await settle(runId);
    expect(report.status).toBe("needs_review");
    expect(report.steps[0]?.attempts).toBe(1);
  });
});

describe("definitions with escalations", () => {
  it("must name reviewers", async () => {
    const definition = flaky("esc-invalid", "/x") as Record<string, unknown>;
    delete definition.reviewers;
    const { api } = await import("./helpers");
    const response = await api("/api/workflows", { method: "POST", json: definition });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { details: { issues: { path: unknown[] }[] } } };
    expect(body.error.details.issues[0]?.path).toEqual(["nodes", 0, "retry", "escalateAfter"]);
  });
});
