import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type AttemptJob, runAttempt } from "../../src/run/attempt";
import type { RunObject } from "../../src/run/run-object";
import type { StepRunApi } from "../../src/run/step-consumer";
import type { StepMessage } from "../../src/run/step-dispatch";
import { runStub } from "../../src/triggers/start-run";
import { register } from "./helpers";
import { runObject } from "./support";
import { deliver } from "./trigger-support";

/** What a run sent to the steps queue, seen through a stand-in for its queue binding. */
export interface SentSteps {
  messages: StepMessage[];
  /** Calls to sendBatch. */
  batches: number;
}

/**
 * A stand-in for the run's STEPS_QUEUE: records every message, and passes it on to the real
 * queue (whose consumer runs in this Worker) unless `drop` is set, which loses it, as a dev
 * server restart loses local queue messages.
 */
export function spyQueue(options: { drop: boolean }): { queue: Queue; sent: SentSteps } {
  const sent: SentSteps = { messages: [], batches: 0 };
  const queue = {
    async send(body: StepMessage) {
      sent.messages.push(body);
      if (!options.drop) await env.STEPS_QUEUE?.send(body, { contentType: "json" });
    },
    async sendBatch(messages: Iterable<MessageSendRequest<StepMessage>>) {
      const list = [...messages];
      sent.batches += 1;
      sent.messages.push(...list.map((message) => message.body));
      if (!options.drop) await env.STEPS_QUEUE?.sendBatch(list);
    },
  } as unknown as Queue;
  return { queue, sent };
}

let counter = 0;

/**
 * Registers the definition and starts a run of it with a known id, after putting `queue` in
 * place of the run's steps queue (a run started through the API sends before a test could).
 */
export async function startWithQueue(definition: { id: string }, input: unknown, queue: Queue): Promise<string> {
  const { workflowId, version } = await register(definition);
  counter += 1;
  const runId = `run_steps_${Date.now().toString(36)}_${counter}`;
  await runInDurableObject(runObject(runId), async (instance: RunObject) => {
    instance.stepsQueue = queue;
  });
  await runStub(env, runId).start({
    runId,
    workflowId,
    version,
    definition,
    input: input as never,
    trigger: { type: "manual", id: null, receivedAt: Date.now() },
  });
  return runId;
}

/** The run's lease timers, as stored. */
export function leasesOf(runId: string) {
  return runInDurableObject(runObject(runId), async (_instance: RunObject, state) =>
    state.storage.sql
      .exec<{ id: string; at: number; body: string }>(
        "SELECT id, at, body FROM timers WHERE id LIKE 'lease:%' ORDER BY id",
      )
      .toArray()
      .map((row) => ({ id: row.id, at: row.at, ...(JSON.parse(row.body) as { dispatch: number; claimed: boolean }) })),
  );
}

/** A step's stored state (interruptions are not part of the report). */
export function storedStep(runId: string, nodeId: string) {
  return runInDurableObject(runObject(runId), async (_instance: RunObject, state) => {
    const row = state.storage.sql
      .exec<{ state: string }>("SELECT state FROM steps WHERE node_id = ?", nodeId)
      .toArray()[0];
    return row ? (JSON.parse(row.state) as { status: string; attempts: number; interruptions: number }) : undefined;
  });
}

/** A fan-out: `width` http calls after a start node, joined by a transform that lists every answer. */
export function fanOut(id: string, width: number, base: string) {
  const branches = Array.from({ length: width }, (_, index) => `call${index}`);
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "begin", type: "transform", config: { set: { width: `${width}` } } },
      ...branches.map((nodeId) => ({
        id: nodeId,
        type: "http",
        config: { method: "POST", url: `${base}/${id}/${nodeId}`, body: "{ 'n': width }", output: nodeId },
      })),
      {
        id: "join",
        type: "transform",
        config: { set: { paths: `[${branches.map((nodeId) => `${nodeId}.body.path`).join(", ")}]` } },
      },
    ],
    edges: [
      ...branches.map((nodeId) => ({ from: "begin", to: nodeId })),
      ...branches.map((nodeId) => ({ from: nodeId, to: "join" })),
    ],
  };
}

/** Two http calls that run together, joined by a transform. */
export function pair(id: string, base: string, paths: { a: string; b: string } = { a: "a", b: "b" }) {
  return {
    id,
    name: id,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "a", type: "http", config: { url: `${base}/${id}/${paths.a}`, output: "a" } },
      { id: "b", type: "http", config: { url: `${base}/${id}/${paths.b}`, output: "b" } },
      { id: "join", type: "transform", config: { set: { both: "[a.status, b.status]" } } },
    ],
    edges: [
      { from: "a", to: "join" },
      { from: "b", to: "join" },
    ],
  };
}

/** Hands messages to the Worker's queue handler as the steps queue would; returns acks and retries. */
export function deliverSteps(messages: StepMessage[], queue = "signalbox-steps") {
  return deliver(
    queue,
    messages.map((body) => ({ id: `${body.runId}:${body.nodeId}:${body.attempt}:${body.dispatch}`, body })),
  );
}

/** The run's step RPCs, as a consumer calls them. */
export function stepRun(runId: string): StepRunApi {
  return runObject(runId) as unknown as StepRunApi;
}

/** What a consumer does with an attempt it claimed: runs it and reports the result to the run. */
export async function runClaimed(runId: string, job: AttemptJob | null | undefined) {
  if (!job) throw new Error(`no claimed attempt to run for ${runId}`);
  return stepRun(runId).completeMany([await runAttempt(job, { env })]);
}
