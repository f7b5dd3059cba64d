import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/engine/events";
import type { RunState } from "../../src/engine/state";
import { initialRunState, transition } from "../../src/engine/transition";
import { plan } from "./plan-fixture";

/** A run a flow-control gate queued: created, not started. */
const p = plan({ a: [], b: ["a"] });
const queued = (): RunState => ({ ...initialRunState(p, { runId: "run-q", createdAt: 0 }), status: "queued" });

describe("a queued run", () => {
  it.each<[string, RunEvent]>([
    ["a restart's resume", { type: "resume" }],
    ["a pause", { type: "pause", reason: "not yet" }],
  ])("stays queued with nothing started on %s", (_name, event) => {
    const result = transition(p, queued(), event, 5);
    expect(result.state.status).toBe("queued");
    expect(result.commands.filter((command) => command.type === "execute")).toEqual([]);
  });

  it("starts its entry nodes when its gate lets it through", () => {
    const result = transition(p, queued(), { type: "start" }, 5);
    expect(result.state).toMatchObject({ status: "running", startedAt: 5 });
    expect(result.commands.filter((command) => command.type === "execute").map((command) => command.type)).toEqual([
      "execute",
    ]);
  });

  it("can be cancelled, and then ends", () => {
    const result = transition(p, queued(), { type: "cancel", reason: "no longer needed" }, 5);
    expect(result.state.status).toBe("cancelled");
    expect(result.commands).toContainEqual({ type: "run-ended", status: "cancelled" });
  });
});

describe("a retry or a replay that waits at a gate", () => {
  /** a succeeded, b failed: the run failed at 20. */
  const failed = (): RunState => {
    const base = initialRunState(p, { runId: "run-f", createdAt: 0 });
    return {
      ...base,
      status: "failed",
      startedAt: 1,
      endedAt: 20,
      steps: {
        a: { ...(base.steps.a as RunState["steps"][string]), status: "success", attempts: 1, endedAt: 10 },
        b: { ...(base.steps.b as RunState["steps"][string]), status: "failed", attempts: 1, endedAt: 20 },
      },
    };
  };

  it("a queued retry sets its steps up, starts nothing, and goes on from them at `start`", () => {
    const retried = transition(p, failed(), { type: "retry", queued: true }, 30);
    expect(retried.state.status).toBe("queued");
    expect(retried.state.steps.b?.status).toBe("pending");
    expect(retried.commands.filter((command) => command.type === "execute")).toEqual([]);
    const started = transition(p, retried.state, { type: "start" }, 40);
    expect(started.state).toMatchObject({ status: "running", startedAt: 1 });
    expect(started.commands.filter((command) => command.type === "execute")).toMatchObject([{ nodeId: "b" }]);
    expect(started.state.steps.a?.status).toBe("success");
  });

  it("a queued replay waits, then starts from the steps it took", () => {
    const replay: RunState = {
      ...initialRunState(p, { runId: "run-r", createdAt: 0 }),
      steps: { ...failed().steps, b: { ...(failed().steps.b as RunState["steps"][string]), status: "pending" } },
    };
    const waiting = transition(p, replay, { type: "start-replay", queued: true }, 5);
    expect(waiting.state.status).toBe("queued");
    expect(waiting.commands.filter((command) => command.type === "execute")).toEqual([]);
    const started = transition(p, waiting.state, { type: "start" }, 6);
    expect(started.state).toMatchObject({ status: "running", startedAt: 6 });
    expect(started.commands.filter((command) => command.type === "execute")).toMatchObject([{ nodeId: "b" }]);
  });
});
