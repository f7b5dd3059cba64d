import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { GateObject } from "../../src/flow/gate-object";
import { gateStub } from "../../src/flow/gate-stub";
import { gateName } from "../../src/flow/types";
import type { ExecutionReport } from "../../src/run/report";
import { runStub } from "../../src/triggers/start-run";
import { api } from "./helpers";

/** A workflow whose runs wait for the event `go`, then end (with `holdWhileWaiting` in the flow they keep their slot meanwhile). */
export function gated(id: string, flow: unknown, nodes?: unknown[]) {
  return {
    id,
    name: id,
    flow,
    nodes: nodes ?? [{ id: "hold", type: "wait", config: { event: "go", timeout: "1h" } }],
  };
}

export type FlowReport = ExecutionReport & {
  flow?: {
    keys: Record<string, string>;
    priority: number;
    waitingFor?: { kind: string; key: string; running: number; limit: number; position: number };
    keyErrors?: { part: string; message: string }[];
  };
};

/** Starts a run: 202 with its id (queued or not), or what the trigger answered. */
export async function trigger(
  workflowId: string,
  input: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await api(`/api/workflows/${workflowId}/runs`, { method: "POST", json: { input } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function start(workflowId: string, input: unknown): Promise<string> {
  const { status, body } = await trigger(workflowId, input);
  if (status !== 202) throw new Error(`start failed: ${status} ${JSON.stringify(body)}`);
  return body.runId as string;
}

/** The run's report once everything it set off (its end's release, the next run's start) is done. */
export async function reportOf(runId: string): Promise<FlowReport> {
  await runStub(env, runId).idle();
  const report = await runStub(env, runId).report();
  if (!report) throw new Error(`no run ${runId}`);
  return report as FlowReport;
}

export async function sendGo(runId: string): Promise<void> {
  const response = await api(`/api/runs/${runId}/events/go`, { method: "POST", json: { payload: {} } });
  if (response.status >= 300) throw new Error(`event refused: ${response.status} ${await response.text()}`);
  await runStub(env, runId).idle();
}

/** A gate, its alarm run on demand and its clock set by the test (no waiting for either). */
export function gate(workflowId: string, part: string, key: string) {
  const name = gateName(workflowId, part, key);
  const object = () => env.GATES.get(env.GATES.idFromName(name));
  return {
    name,
    stub: gateStub(env, name),
    alarm: () => runDurableObjectAlarm(object()),
    setClock: (at: number) =>
      runInDurableObject(object(), (instance: GateObject) => {
        instance.clock = () => at;
      }),
  };
}
