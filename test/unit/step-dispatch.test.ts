import { describe, expect, it } from "vitest";
import type { ExecuteCommand } from "../../src/run/attempt";
import {
  claimGraceMs,
  deliveryLeaseMs,
  dispatchMode,
  Leases,
  type LeaseTimer,
  resendsBeforeInline,
  splitReady,
} from "../../src/run/step-dispatch";
import { plan } from "./plan-fixture";

const execute = (nodeId: string, attempt = 1): ExecuteCommand => ({
  type: "execute",
  nodeId,
  attempt,
  idempotencyKey: `run-1:${nodeId}:${attempt}`,
  timeoutMs: 1_000,
});

/** h1, h2: http; l: llm; w: wait; t: transform. */
const p = plan({ h1: [], h2: [], l: [], w: [], t: [] });
const typed = {
  ...p,
  nodes: Object.fromEntries(
    Object.entries(p.nodes).map(([id, node]) => [
      id,
      { ...node, type: { h1: "http", h2: "http", l: "llm", w: "wait", t: "transform" }[id] ?? "transform" },
    ]),
  ),
};

describe("splitReady", () => {
  it.each([
    { name: "two http", ready: ["h1", "h2"], queued: ["h1", "h2"], inline: [] },
    {
      name: "http and llm beside pure and wait nodes",
      ready: ["t", "h1", "w", "l"],
      queued: ["h1", "l"],
      inline: ["t", "w"],
    },
    { name: "a lone http", ready: ["h1"], queued: [], inline: ["h1"] },
    { name: "a lone http beside pure and wait nodes", ready: ["h1", "t", "w"], queued: [], inline: ["h1", "t", "w"] },
  ])("queue mode: $name", ({ ready, queued, inline }) => {
    const split = splitReady(
      typed,
      "queue",
      ready.map((id) => execute(id)),
    );
    expect(split.queued.map((command) => command.nodeId)).toEqual(queued);
    expect(split.inline.map((command) => command.nodeId)).toEqual(inline);
  });

  it.each([
    { name: "below the limit", resends: { h1: resendsBeforeInline - 1 }, queued: ["h1", "h2", "l"], inline: [] },
    { name: "one at the limit", resends: { h1: resendsBeforeInline }, queued: ["h2", "l"], inline: ["h1"] },
    {
      name: "two at the limit, leaving one to send (alone: inline too)",
      resends: { h1: resendsBeforeInline, l: resendsBeforeInline + 1 },
      queued: [],
      inline: ["h1", "h2", "l"],
    },
  ])("an attempt whose message was lost too often runs in the run: $name", ({ resends, queued, inline }) => {
    const steps = Object.fromEntries(
      Object.entries(resends).map(([nodeId, count]) => [
        nodeId,
        { nodeId, attempts: 1, interruptions: 0, resends: count },
      ]),
    );
    const ready = ["h1", "h2", "l"].map((id) => execute(id));
    const split = splitReady(typed, "queue", ready, { steps } as never);
    expect(split.queued.map((command) => command.nodeId)).toEqual(queued);
    expect(split.inline.map((command) => command.nodeId)).toEqual(inline);
  });

  it("inline mode runs everything in the run", () => {
    const split = splitReady(typed, "inline", [execute("h1"), execute("h2")]);
    expect(split).toEqual({ inline: [execute("h1"), execute("h2")], queued: [] });
  });

  it.each([
    { value: undefined, queue: true, mode: "queue" },
    { value: "queue", queue: true, mode: "queue" },
    { value: "inline", queue: true, mode: "inline" },
    { value: "queue", queue: false, mode: "inline" },
  ])("dispatchMode($value, binding: $queue) is $mode", ({ value, queue, mode }) => {
    expect(dispatchMode(value, queue ? ({} as Queue) : undefined)).toBe(mode);
  });
});

describe("Leases", () => {
  function withStore() {
    const stored = new Map<string, LeaseTimer>();
    const store = {
      setTimer: (timer: LeaseTimer) => void stored.set(timer.id, timer),
      deleteTimer: (id: string) => void stored.delete(id),
    };
    return { leases: new Leases(store), stored };
  }
  const state = (interruptions: Record<string, number>, status = "running", resends: Record<string, number> = {}) =>
    ({
      runId: "run-1",
      contextVersion: 3,
      steps: Object.fromEntries(
        Object.entries(interruptions).map(([nodeId, count]) => [
          nodeId,
          { nodeId, status, attempts: 1, interruptions: count, resends: resends[nodeId] },
        ]),
      ),
    }) as never;

  it("opens a delivery lease per sent attempt, numbered by the step's interruptions and resends", () => {
    const { leases, stored } = withStore();
    const messages = leases.open(
      "run-1",
      state({ a: 0, b: 2, c: 1 }, "running", { c: 2 }),
      [execute("a"), execute("b"), execute("c")],
      1_000,
    );
    expect(messages).toEqual([
      { runId: "run-1", nodeId: "a", attempt: 1, idempotencyKey: "run-1:a:1", dispatch: 0 },
      { runId: "run-1", nodeId: "b", attempt: 1, idempotencyKey: "run-1:b:1", dispatch: 2 },
      { runId: "run-1", nodeId: "c", attempt: 1, idempotencyKey: "run-1:c:1", dispatch: 3 },
    ]);
    expect([...stored.values()].map((lease) => [lease.id, lease.at, lease.claimed])).toEqual([
      ["lease:a:1", 1_000 + deliveryLeaseMs, false],
      ["lease:b:1", 1_000 + deliveryLeaseMs, false],
      ["lease:c:1", 1_000 + deliveryLeaseMs, false],
    ]);
    expect(leases.size).toBe(3);
    expect(leases.unclaimedNodes()).toEqual(["a", "b", "c"]);
    expect(leases.claimedNodes()).toEqual([]);
  });

  it("matches only the same attempt and sending; a claim extends the lease", () => {
    const { leases, stored } = withStore();
    leases.open("run-1", state({ a: 1 }), [execute("a")], 0);
    expect(leases.matching({ nodeId: "a", attempt: 1, dispatch: 0 })).toBeUndefined();
    expect(leases.matching({ nodeId: "a", attempt: 2, dispatch: 1 })).toBeUndefined();
    const lease = leases.matching({ nodeId: "a", attempt: 1, dispatch: 1 });
    expect(lease).toBeDefined();
    leases.claim(lease as LeaseTimer, 5_000, 100);
    expect(stored.get("lease:a:1")).toMatchObject({ at: 100 + 5_000 + claimGraceMs, claimed: true });
    expect(leases.claimedNodes()).toEqual(["a"]);
    expect(leases.unclaimedNodes()).toEqual([]);
  });

  it("prunes leases of steps that moved on and restores the rest from stored timers", () => {
    const { leases, stored } = withStore();
    leases.open("run-1", state({ a: 0, b: 0 }), [execute("a"), execute("b")], 0);
    const moved = {
      ...(state({ a: 0 }) as object),
      steps: { ...(state({ a: 0 }) as { steps: object }).steps, b: { status: "success", attempts: 1 } },
    };
    expect(leases.prune(moved as never, ["b"])).toBe(true);
    expect([...stored.keys()]).toEqual(["lease:a:1"]);
    const restored = new Leases({ setTimer: () => undefined, deleteTimer: () => undefined });
    restored.restore([...stored.values(), { kind: "watch" }]);
    expect(restored.size).toBe(1);
    expect(restored.has("a")).toBe(true);
  });
});
