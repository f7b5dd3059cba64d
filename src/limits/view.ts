import type { Env } from "../env";
import { logLine } from "../lib/log";
import { reopensAt, windowCounts } from "./circuit";
import { type LimitSnapshot, limitStub } from "./limit-stub";
import { emptyLimitState, type LimitCounts } from "./policy";
import { limitSettings } from "./settings";
import type { CircuitStatus, LimitConfig } from "./types";

/** One limit as the API and metrics show it. */
export interface LimitView {
  name: string;
  /** `llm` (a provider's), `http` (a host's) or `named` (an http node's `limit`). */
  kind: "llm" | "http" | "named";
  config: LimitConfig;
  /** Null when the limit has no circuit. */
  circuit: {
    status: CircuitStatus;
    openedAt: number | null;
    /** Open: when the probe may go. */
    reopensAt: number | null;
    /** Half-open: the probe out and when its time is up. */
    probe: { key: string; until: number } | null;
    /** Calls within the window (closed). */
    window: { successes: number; failures: number };
    opens: number;
    lastFailure: { at: number; code: string | null } | null;
  } | null;
  /** A provider's Retry-After in force: no call goes before it. */
  pausedUntil: number | null;
  /** Calls holding a turn that has not come yet. */
  waiting: number;
  counts: LimitCounts;
  /** False when no call has used the limit yet (its figures are all zero). */
  used: boolean;
}

export function kindOf(name: string): LimitView["kind"] {
  if (name.startsWith("llm:")) return "llm";
  if (name.startsWith("http:")) return "http";
  return "named";
}

export function limitView(name: string, config: LimitConfig, snapshot: LimitSnapshot | null, now: number): LimitView {
  const state = snapshot?.state ?? emptyLimitState();
  const circuit = config.circuit;
  const at = snapshot?.now ?? now;
  return {
    name,
    kind: kindOf(name),
    config,
    circuit: circuit
      ? {
          status: state.circuit.status,
          openedAt: state.circuit.openedAt ?? null,
          reopensAt: state.circuit.status === "open" ? (reopensAt(state.circuit, circuit) ?? null) : null,
          probe: state.circuit.probe ?? null,
          window: windowCounts(state.circuit, circuit, at),
          opens: state.circuit.opens,
          lastFailure: state.circuit.lastFailure
            ? { at: state.circuit.lastFailure.at, code: state.circuit.lastFailure.code ?? null }
            : null,
        }
      : null,
    pausedUntil: state.rates.pausedUntil > at ? state.rates.pausedUntil : null,
    waiting: snapshot?.waiting ?? 0,
    counts: state.counts,
    used: snapshot !== null,
  };
}

/** Reads one limit's object; an object that cannot be reached shows as unused (and is logged). */
async function snapshotOf(env: Env, name: string): Promise<LimitSnapshot | null> {
  try {
    return await limitStub(env, name).snapshot();
  } catch (thrown) {
    logLine("warn", "limit could not be read", { limit: name, error: String(thrown) });
    return null;
  }
}

/** Every configured limit with its state, by name; `problem` when the settings cannot be read. */
export async function readLimits(env: Env): Promise<{ limits: LimitView[]; problem: string | null }> {
  const settings = limitSettings(env);
  const names = [...settings.limits.keys()].sort();
  const now = Date.now();
  const limits = await Promise.all(
    names.map(async (name) =>
      limitView(name, settings.limits.get(name) as LimitConfig, await snapshotOf(env, name), now),
    ),
  );
  return { limits, problem: settings.problem ?? null };
}

/** One configured limit with its state, or undefined when no limit has that name. */
export async function readLimit(env: Env, name: string): Promise<LimitView | undefined> {
  const config = limitSettings(env).limits.get(name);
  if (!config) return undefined;
  return limitView(name, config, await snapshotOf(env, name), Date.now());
}
