import type { RunEvent } from "../engine/events";

/** What a gate holds runs to: a number of slots at once, or a spacing between starts. */
export type GateConfig =
  | { kind: "concurrency"; limit: number }
  /** One active run per key: a slot of one and no queue (the trigger skips, or cancels the holder). */
  | { kind: "singleton"; limit: 1; mode: "skip" | "cancel" }
  | { kind: "throttle"; limit: number; periodMs: number; burst: number };

export type GateKind = GateConfig["kind"];

/** One gate a run passes on its way to starting: the part of the flow, its key value, its object's name. */
export interface GateRef {
  name: string;
  /** `singleton`, `concurrency.0`, `concurrency.1` or `throttle`. */
  part: string;
  key: string;
  config: GateConfig;
  /** Concurrency only: the run keeps its slot while it waits (sleep, event, a person, children). */
  holdWhileWaiting?: boolean;
}

/** Why a queued run has not started: the gate it waits at and its place there (1 = next). */
export interface WaitingFor {
  kind: GateKind;
  key: string;
  running: number;
  limit: number;
  position: number;
}

/** A key or priority expression that failed on the run's input: the run went under key `_`. */
export interface FlowKeyError {
  part: string;
  message: string;
}

/**
 * A started run that gave its concurrency slots back while it only waits (a sleep, an event, a
 * person, children), and asks for them again once an event would make it go on.
 */
export interface AwayFlow {
  /** The gates given back (names), in the order they are asked again. */
  gates: string[];
  /** How many of them have let the run through again. */
  admitted: number;
  /** Events that would make the run go on, held in order until every gate has let it through. */
  held: RunEvent[];
  /** From the gate that queued it on its way back. */
  waitingFor?: WaitingFor;
}

/** A run's flow: the gates it passes in order and how many of them have let it through. */
export interface RunFlow {
  gates: GateRef[];
  admitted: number;
  priority: number;
  keyErrors?: FlowKeyError[];
  /** From the gate that queued the run, when it was queued. */
  waitingFor?: WaitingFor;
  away?: AwayFlow | undefined;
}

export type AcquireResult = { granted: true } | ({ granted: false } & Omit<WaitingFor, "kind" | "key">);

/** The key a run goes under when its key expression fails or yields nothing. */
export const fallbackKey = "_";

export function gateName(workflowId: string, part: string, key: string): string {
  return JSON.stringify([workflowId, part, key]);
}

/** What a run's report says of its flow: its keys, why it waits, and any key that failed. */
export interface FlowReport {
  keys: Record<string, string>;
  priority: number;
  waitingFor?: WaitingFor;
  /** The run gave these parts' slots back while it waits; `resuming`: its wait ended and it asks for them again. */
  released?: { parts: string[]; resuming: boolean };
  keyErrors?: FlowKeyError[];
}

/** What a singleton gate did with a trigger: let it in (maybe replacing a run), or skipped it for the active one. */
export type SingletonResult = { granted: true; replaced?: string } | { granted: false; activeRunId: string };
