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
