import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events";
import type { ExpireAction, NodeOutcome, ReviewAsk, ReviewDecision } from "../../src/engine/outcome";
import type { StepStatus } from "../../src/engine/state";
import { commandsOf, Driver, err, executed, failure, ok, plan, sleepUntil, timersSet } from "./plan-fixture";

const hour = 3_600_000;

function ask(overrides: Partial<ReviewAsk> = {}): NodeOutcome {
  return {
    type: "await-review",
    review: {
      approvers: ["ann@x.test"],
      require: "any",
      expiresAt: 48 * hour,
      remindBeforeMs: [24 * hour],
      onExpire: { type: "reject" },
      output: "approval",
      request: { subject: "Approve?", text: "Please", summary: [], decisions: ["approve", "reject"] },
      ...overrides,
    },
  };
}

/** prep -> ask (human) -> next */
const p = plan({ prep: [], ask: ["prep"], next: ["ask"] }, { nodes: { ask: { type: "human", kind: "io" } } });

function atReview(overrides: Partial<ReviewAsk> = {}) {
  const run = new Driver(p);
  run.start(0);
  run.result("prep", ok({ amount: 5 }), 10);
  const t = run.result("ask", ask(overrides), 20);
  return { run, t };
}

function decision(
  approver: string,
  choice: ReviewDecision,
  extra: Partial<Extract<RunEvent, { type: "decision" }>> = {},
): RunEvent {
  return { type: "decision", nodeId: "ask", attempt: 1, round: 1, approver, decision: choice, ...extra };
}

describe("a human node awaiting review", () => {
  it("puts the step and the run in needs_review, arms expiry and reminders, and asks for emails", () => {
    const { run, t } = atReview();
    expect(run.step("ask")).toMatchObject({
      status: "needs_review",
      review: { kind: "approval", round: 1, approvers: ["ann@x.test"], requestedAt: 20, expiresAt: 48 * hour },
      history: [{ attempt: 1, startedAt: 10, endedAt: 20, outcome: "await-review" }],
    });
    expect(run.state.status).toBe("needs_review");
    expect(t.commands).toEqual([
      {
        type: "request-review",
        nodeId: "ask",
        attempt: 1,
        round: 1,
        purpose: "request",
        approvers: ["ann@x.test"],
        expiresAt: 48 * hour,
      },
      {
        type: "set-timer",
        timer: { id: "expire:ask:1:1", at: 48 * hour, kind: "expire", nodeId: "ask", attempt: 1, round: 1 },
      },
      {
        type: "set-timer",
        timer: { id: "remind:ask:1:1.0", at: 24 * hour, kind: "remind", nodeId: "ask", attempt: 1, round: 1 },
      },
    ]);
  });

  it("drops reminders whose time has already passed", () => {
    const { t } = atReview({ expiresAt: 30, remindBeforeMs: [24 * hour, 5] });
    expect(timersSet(t).map((timer) => timer.id)).toEqual(["expire:ask:1:1", "remind:ask:1:1.1"]);
  });

  it.each([
    { running: true, expected: "running" },
    { running: false, expected: "needs_review" },
  ])("derives the run status: running beats needs_review ($expected)", ({ running, expected }) => {
    const run = new Driver(plan({ a: [], b: [] }, { nodes: { a: { type: "human" } } }));
    run.start(0);
    run.result("a", ask(), 10);
    if (!running) run.result("b", sleepUntil(hour), 20);
    expect(run.state.status).toBe(expected);
  });
});

describe("decisions", () => {
  type Row = {
    name: string;
    require: "any" | "all";
    approvers: string[];
    steps: [string, ReviewDecision][];
    statuses: StepStatus[];
    outcome?: ReviewDecision;
  };
  const table: Row[] = [
    {
      name: "any: approve",
      require: "any",
      approvers: ["a", "b"],
      steps: [["b", "approve"]],
      statuses: ["success"],
      outcome: "approve",
    },
    {
      name: "any: reject",
      require: "any",
      approvers: ["a", "b"],
      steps: [["a", "reject"]],
      statuses: ["success"],
      outcome: "reject",
    },
    {
      name: "all: both approve",
      require: "all",
      approvers: ["a", "b"],
      steps: [
        ["a", "approve"],
        ["b", "approve"],
      ],
      statuses: ["needs_review", "success"],
      outcome: "approve",
    },
    {
      name: "all: one reject settles it",
      require: "all",
      approvers: ["a", "b", "c"],
      steps: [
        ["a", "approve"],
        ["b", "reject"],
      ],
      statuses: ["needs_review", "success"],
      outcome: "reject",
    },
  ];

  it.each(table)("$name", ({ require, approvers, steps, statuses, outcome }) => {
    const { run } = atReview({ require, approvers });
    steps.forEach(([approver, choice], index) => {
      const t = run.send(decision(approver, choice, { comment: `by ${approver}` }), 100 + index);
      expect(t.changed).toBe(true);
      expect(run.step("ask").status).toBe(statuses[index]);
    });
    const last = steps[steps.length - 1] as [string, ReviewDecision];
    expect(run.step("ask").output).toEqual({
      approval: {
        decision: outcome,
        by: last[0],
        at: 100 + steps.length - 1,
        comment: `by ${last[0]}`,
        edits: null,
        approvals: steps.map(([approver, choice], index) => ({
          approver,
          decision: choice,
          at: 100 + index,
          comment: `by ${approver}`,
        })),
        expired: false,
        round: 1,
      },
    });
    expect(run.step("ask").review?.outcome).toBe(outcome);
    expect(executed(run.history.at(-1) as never)).toEqual(["next"]);
    // The step's timers are cleared when the decision settles it.
    expect(commandsOf(run.history.at(-1)?.commands ?? [], "clear-timer").map((c) => c.id)).toEqual([
      "expire:ask:1:1",
      "remind:ask:1:1.0",
    ]);
  });

  it("writes approvers' edits into the decision", () => {
    const { run } = atReview();
    run.send(decision("ann@x.test", "approve", { edits: { amount: 3 } }), 100);
    expect(run.step("ask").output?.approval).toMatchObject({ edits: { amount: 3 } });
  });

  it.each([
    { name: "the wrong attempt", event: decision("ann@x.test", "approve", { attempt: 2 }) },
    { name: "the wrong round", event: decision("ann@x.test", "approve", { round: 2 }) },
    { name: "someone not asked", event: decision("eve@x.test", "approve") },
    { name: "a decision not offered", event: decision("ann@x.test", "skip") },
    { name: "another node", event: { ...decision("ann@x.test", "approve"), nodeId: "prep" } as RunEvent },
  ])("ignores a decision from $name", ({ event }) => {
    const { run } = atReview();
    const t = run.send(event, 100);
    expect(t.changed).toBe(false);
    expect(run.step("ask").status).toBe("needs_review");
  });

  it("ignores a second decision by the same approver, and any after the run was cancelled", () => {
    const { run } = atReview({ approvers: ["a", "b"], require: "all" });
    run.send(decision("a", "approve"), 100);
    expect(run.send(decision("a", "reject"), 101).changed).toBe(false);
    const cancel = run.cancel(102);
    expect(commandsOf(cancel.commands, "clear-timer").map((c) => c.id)).toEqual(["expire:ask:1:1", "remind:ask:1:1.0"]);
    expect(run.step("ask").status).toBe("cancelled");
    expect(run.send(decision("b", "approve"), 103).changed).toBe(false);
  });
});

describe("expiry and reminders", () => {
  const expireTimer = {
    id: "expire:ask:1:1",
    at: 48 * hour,
    kind: "expire" as const,
    nodeId: "ask",
    attempt: 1,
    round: 1,
  };
  const remindTimer = { ...expireTimer, id: "remind:ask:1:1.0", at: 24 * hour, kind: "remind" as const };

  it.each<{ action: ExpireAction; status: string; decision?: string; error?: string }>([
    { action: { type: "reject" }, status: "running", decision: "reject" },
    { action: { type: "approve" }, status: "running", decision: "approve" },
    { action: { type: "fail" }, status: "failed", error: "review.expired" },
  ])("onExpire $action.type", ({ action, status, decision: expected, error }) => {
    const { run } = atReview({ onExpire: action });
    run.fire(expireTimer);
    expect(run.state.status).toBe(status);
    if (expected) {
      expect(run.step("ask").output?.approval).toMatchObject({ decision: expected, by: null, expired: true });
      expect(run.step("ask").review?.outcome).toBe("expired");
    }
    if (error) expect(run.state.error).toMatchObject({ code: error, nodeId: "ask" });
  });

  it("onExpire escalate starts round 2 with new approvers, then falls back", () => {
    const { run } = atReview({
      onExpire: { type: "escalate", approvers: ["boss@x.test"], expiresInMs: 10 * hour, fallback: "approve" },
    });
    const t = run.fire(expireTimer);
    expect(run.step("ask")).toMatchObject({
      status: "needs_review",
      review: { round: 2, approvers: ["boss@x.test"], expiresAt: 58 * hour, onExpire: { type: "approve" } },
    });
    expect(commandsOf(t.commands, "request-review")).toEqual([
      {
        type: "request-review",
        nodeId: "ask",
        attempt: 1,
        round: 2,
        purpose: "escalation",
        approvers: ["boss@x.test"],
        expiresAt: 58 * hour,
      },
    ]);
    // Round 2's reminder (24h before 58h) would be in the past: only the expiry is armed.
    expect(timersSet(t).map((timer) => timer.id)).toEqual(["expire:ask:1:2"]);
    // Round 1's approver and round 1's timers no longer count.
    expect(run.send(decision("ann@x.test", "approve"), 49 * hour).changed).toBe(false);
    expect(run.fire(remindTimer, 49 * hour).changed).toBe(false);
    run.fire({ ...expireTimer, id: "expire:ask:1:2", at: 58 * hour, round: 2 });
    expect(run.step("ask").output?.approval).toMatchObject({ decision: "approve", expired: true, round: 2 });
  });

  it("a reminder asks only those who have not decided", () => {
    const { run } = atReview({ approvers: ["a", "b"], require: "all" });
    run.send(decision("a", "approve"), 100);
    const t = run.fire(remindTimer);
    expect(t.changed).toBe(true);
    expect(commandsOf(t.commands, "request-review")).toEqual([
      {
        type: "request-review",
        nodeId: "ask",
        attempt: 1,
        round: 1,
        purpose: "reminder",
        approvers: ["b"],
        expiresAt: 48 * hour,
      },
    ]);
    expect(run.step("ask").review?.reminded).toBe(1);
  });

  it("a failed delivery is recorded on the step, which stays needs_review", () => {
    const { run } = atReview();
    const error = err("email.delivery_failed", { message: "provider down" });
    const event: RunEvent = {
      type: "delivery-failed",
      nodeId: "ask",
      attempt: 1,
      round: 1,
      approver: "ann@x.test",
      error,
    };
    run.send(event, 100);
    expect(run.step("ask")).toMatchObject({ status: "needs_review", error, review: { undelivered: ["ann@x.test"] } });
    expect(run.state.status).toBe("needs_review");
    expect(run.send(event, 101).changed).toBe(false);
    expect(run.send({ ...event, round: 2 }, 102).changed).toBe(false);
  });
});

describe("escalation from any node", () => {
  const escalating = (after: number, maxAttempts: number) =>
    plan(
      { a: [], b: ["a"] },
      {
        nodes: {
          a: { retry: { maxAttempts, escalation: { after, reviewers: ["ops@x.test"], expiresInMs: 7 * 24 * hour } } },
        },
      },
    );
  const retryable = () => failure("node.http_status", { retryable: true });

  it.each([
    { name: "when retries run out", after: 5, maxAttempts: 2, failuresBeforeReview: 2 },
    { name: "at the threshold, with attempts left", after: 2, maxAttempts: 5, failuresBeforeReview: 2 },
    { name: "at once for a non-retryable error", after: 3, maxAttempts: 3, failuresBeforeReview: 1, fatal: true },
  ])("goes to needs_review $name", ({ after, maxAttempts, failuresBeforeReview, fatal }) => {
    const run = new Driver(escalating(after, maxAttempts));
    run.start(0);
    let now = 10;
    for (let index = 1; index < failuresBeforeReview; index++) {
      run.result("a", retryable(), now);
      run.fire(run.lastTimerOf("a"));
      now = run.state.updatedAt + 10;
    }
    const t = run.result("a", fatal ? failure("node.http_status") : retryable(), now);
    expect(run.step("a")).toMatchObject({
      status: "needs_review",
      attempts: failuresBeforeReview,
      error: { code: "node.http_status" },
      review: { kind: "escalation", approvers: ["ops@x.test"], request: { decisions: ["retry", "skip", "fail"] } },
    });
    expect(run.state.status).toBe("needs_review");
    expect(commandsOf(t.commands, "request-review")).toHaveLength(1);
  });

  function escalated() {
    const run = new Driver(escalating(1, 1));
    run.start(0);
    run.result("a", failure("node.http_status", { retryable: true }), 10);
    const ops = (choice: ReviewDecision, extra = {}): RunEvent => ({
      type: "decision",
      nodeId: "a",
      attempt: 1,
      round: 1,
      approver: "ops@x.test",
      decision: choice,
      ...extra,
    });
    return { run, ops };
  }

  it("retry starts a new attempt with a fresh retry budget", () => {
    const { run, ops } = escalated();
    const t = run.send(ops("retry"), 100);
    expect(executed(t)).toEqual(["a"]);
    expect(run.step("a")).toMatchObject({ status: "running", attempts: 2, attemptBase: 1 });
    // It fails again: a fresh budget of one attempt, so it escalates again.
    run.result("a", failure("node.http_status", { retryable: true }), 110);
    expect(run.step("a").status).toBe("needs_review");
  });

  it("skip writes the supplied output and goes on", () => {
    const { run, ops } = escalated();
    const t = run.send(ops("skip", { output: { x: 1 } }), 100);
    expect(run.step("a")).toMatchObject({ status: "success", output: { x: 1 } });
    expect(executed(t)).toEqual(["b"]);
  });

  it("fail fails the run, keeping the original error", () => {
    const { run, ops } = escalated();
    run.send(ops("fail", { comment: "no" }), 100);
    expect(run.state.status).toBe("failed");
    expect(run.state.error).toMatchObject({
      code: "review.failed",
      nodeId: "a",
      details: { original: { code: "node.http_status" } },
    });
  });

  it("approve is not an escalation decision", () => {
    const { run, ops } = escalated();
    expect(run.send(ops("approve"), 100).changed).toBe(false);
  });

  it("expiry fails the step with review.expired", () => {
    const { run } = escalated();
    run.fire(run.lastTimerOf("a"));
    expect(run.state.error).toMatchObject({
      code: "review.expired",
      details: { original: { code: "node.http_status" } },
    });
  });
});
