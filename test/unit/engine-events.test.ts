import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events";
import type { EventWait, NodeOutcome } from "../../src/engine/outcome";
import { commandsOf, Driver, executed, plan } from "./plan-fixture";

function awaitEvent(overrides: Partial<EventWait> = {}): NodeOutcome {
  return { type: "await-event", wait: { name: "paid", until: 1_000, output: "payment", ...overrides } };
}

/** w waits; on the event `yes` runs, on timeout `late` (when w routes). */
const routed = plan({ w: [], yes: ["w"], late: ["w"] }, { routes: ["w"], nodes: { w: { type: "wait" } } });
const straight = plan({ w: [], next: ["w"] }, { nodes: { w: { type: "wait" } } });

function delivered(name = "paid", attempt = 1): RunEvent {
  return {
    type: "event",
    nodeId: "w",
    attempt,
    event: { name, id: "evt-1", payload: { amount: 3 }, receivedAt: 50 },
  };
}

const timeoutTimer = { id: "event-timeout:w:1", at: 1_000, kind: "event-timeout" as const, nodeId: "w", attempt: 1 };

describe("wait for an event", () => {
  it("waits with a timeout timer and asks the shell for buffered events", () => {
    const run = new Driver(straight);
    run.start(0);
    const t = run.result("w", awaitEvent({ match: "event.payload.amount > 1" }), 10);
    expect(run.step("w")).toMatchObject({
      status: "waiting",
      eventWait: { name: "paid", until: 1_000, match: "event.payload.amount > 1", output: "payment" },
      history: [{ attempt: 1, outcome: "await-event" }],
    });
    expect(run.state.status).toBe("waiting");
    expect(t.commands).toEqual([
      { type: "set-timer", timer: timeoutTimer },
      { type: "await-event", nodeId: "w", attempt: 1, name: "paid" },
    ]);
  });

  it.each([
    { name: "without a timeout path: every successor", p: straight, timeoutTo: undefined, runs: ["next"] },
    { name: "with one: all but the timeout path", p: routed, timeoutTo: "late", runs: ["yes"] },
  ])("an event completes the wait and takes $name", ({ p, timeoutTo, runs }) => {
    const run = new Driver(p);
    run.start(0);
    run.result("w", awaitEvent(timeoutTo ? { timeoutTo } : {}), 10);
    const t = run.send(delivered(), 60);
    expect(commandsOf(t.commands, "clear-timer")).toEqual([{ type: "clear-timer", id: "event-timeout:w:1" }]);
    expect(executed(t)).toEqual(runs);
    expect(run.step("w")).toMatchObject({
      status: "success",
      output: { payment: { name: "paid", id: "evt-1", payload: { amount: 3 }, receivedAt: 50, timedOut: false } },
    });
    expect(run.step("w").eventWait).toBeUndefined();
    if (timeoutTo) expect(run.step("late").status).toBe("skipped");
  });

  it.each([
    { name: "another event name", event: delivered("refunded") },
    { name: "another attempt", event: delivered("paid", 2) },
  ])("ignores $name", ({ event }) => {
    const run = new Driver(straight);
    run.start(0);
    run.result("w", awaitEvent(), 10);
    expect(run.send(event, 20).changed).toBe(false);
  });

  it("ignores an event once the wait is over, and a timeout after the event", () => {
    const run = new Driver(straight);
    run.start(0);
    run.result("w", awaitEvent(), 10);
    run.send(delivered(), 20);
    expect(run.send(delivered(), 21).changed).toBe(false);
    expect(run.fire(timeoutTimer).changed).toBe(false);
  });

  it("a timeout takes the timeout path", () => {
    const run = new Driver(routed);
    run.start(0);
    run.result("w", awaitEvent({ timeoutTo: "late" }), 10);
    const t = run.fire(timeoutTimer);
    expect(executed(t)).toEqual(["late"]);
    expect(run.step("yes").status).toBe("skipped");
    expect(run.step("w").output).toEqual({ payment: { name: "paid", timedOut: true } });
  });

  it("without a timeout path a timeout fails the step, or retries it when the policy allows", () => {
    const failing = new Driver(straight);
    failing.start(0);
    failing.result("w", awaitEvent(), 10);
    failing.fire(timeoutTimer);
    expect(failing.state.status).toBe("failed");
    expect(failing.state.error).toMatchObject({ code: "node.event_timeout", nodeId: "w" });

    const retrying = new Driver(plan({ w: [] }, { retry: { maxAttempts: 2 } }));
    retrying.start(0);
    retrying.result("w", awaitEvent(), 10);
    retrying.send({ type: "timer", timer: timeoutTimer }, 1_000);
    // A timeout is not retryable by default: the wait ends it.
    expect(retrying.state.status).toBe("failed");
  });

  it("cancelling clears the timeout timer", () => {
    const run = new Driver(straight);
    run.start(0);
    run.result("w", awaitEvent(), 10);
    const t = run.cancel(20);
    expect(commandsOf(t.commands, "clear-timer")).toEqual([{ type: "clear-timer", id: "event-timeout:w:1" }]);
    expect(run.step("w").status).toBe("cancelled");
  });
});
