import type { Env } from "../env";
import { fail, toErrorData } from "../errors";
import { logLine } from "../lib/log";
import { type MethodNames, rpcStub } from "../lib/rpc-stub";
import { hasSealed, keyringOf, openAll } from "../security/seal";
import { type AttemptJob, type AttemptResult, runAttempt } from "./attempt";
import { BlobCache, resolveContext } from "./context-store";
import type { ClaimInput } from "./dispatched-steps";
import { contextUnavailable } from "./live-context";
import type { StepMessage } from "./step-dispatch";

const blobCache = new BlobCache();

async function attemptWithValues(env: Env, job: AttemptJob): Promise<AttemptResult> {
  let context: AttemptJob["context"];
  try {
    context = await openSealed(env, await resolveContext(env.BLOBS, job.runId, job.context, blobCache));
  } catch (thrown) {
    const at = Date.now();
    return {
      nodeId: job.node.id,
      attempt: job.command.attempt,
      outcome: { type: "failure", error: contextUnavailable(thrown) },
      startedAt: at,
      endedAt: at,
    };
  }
  return runAttempt({ ...job, context }, { env });
}

/** Sensitive values arrive sealed, as the run stores them; the node reads them in plain. */
async function openSealed(env: Env, context: AttemptJob["context"]): Promise<AttemptJob["context"]> {
  if (!hasSealed(context)) return context;
  const ring = keyringOf(env);
  if ("problem" in ring)
    fail("context.unavailable", `sensitive values cannot be opened: ${ring.problem}`, { retryable: true });
  return openAll(context, ring);
}

/** Queue names as wrangler.toml declares them. */
export const stepQueues = {
  steps: "signalbox-steps",
  deadLetters: "signalbox-steps-dlq",
} as const;

export function consumesStepQueue(queue: string): boolean {
  return queue === stepQueues.steps || queue === stepQueues.deadLetters;
}

/** The run object's RPCs a consumer calls, declared (as RunApi is) to keep RPC types shallow. */
export interface StepRunApi {
  claimMany(inputs: ClaimInput[]): Promise<(AttemptJob | null)[]>;
  completeMany(results: AttemptResult[]): Promise<{ accepted: boolean }[]>;
  stepDeadLettered(input: ClaimInput): Promise<{ expired: boolean }>;
}

const stepRunMethods: MethodNames<StepRunApi> = { claimMany: true, completeMany: true, stepDeadLettered: true };

function stepRun(env: Env, runId: string): StepRunApi {
  return rpcStub(env.RUNS.get(env.RUNS.idFromName(runId)), stepRunMethods);
}

export async function consumeStepBatch(batch: MessageBatch, env: Env): Promise<void> {
  if (batch.queue === stepQueues.deadLetters) return consumeDeadLetters(batch, env);
  const byRun = new Map<string, { message: Message; body: StepMessage }[]>();
  for (const message of batch.messages) {
    const body = stepMessage(message.body);
    if (!body) {
      logLine("error", "dropped a malformed step message", { queue: batch.queue, id: message.id });
      message.ack();
      continue;
    }
    const group = byRun.get(body.runId) ?? [];
    group.push({ message, body });
    byRun.set(body.runId, group);
  }
  await Promise.all([...byRun].map(([runId, group]) => consumeRunGroup(env, stepRun(env, runId), group)));
}

/**
 * One run's messages of a batch: claimed in one RPC, run concurrently, and completed in as few
 * RPCs as results allow. A message is acked once its result is with the run; a failed RPC
 * retries it (the run's lease covers it meanwhile; a repeat claim while a consumer holds the
 * attempt is refused, so the attempt never runs twice at once).
 */
async function consumeRunGroup(
  env: Env,
  run: StepRunApi,
  group: readonly { message: Message; body: StepMessage }[],
): Promise<void> {
  let jobs: (AttemptJob | null)[];
  try {
    jobs = await run.claimMany(group.map(({ body }) => claimOf(body)));
  } catch (thrown) {
    for (const { message, body } of group) retry(message, body, "claim failed", thrown);
    return;
  }
  const completions = new Coalescer<AttemptResult, { accepted: boolean }>((results) => run.completeMany(results));
  await Promise.all(
    group.map(async ({ message, body }, index) => {
      const job = jobs[index];
      if (!job) {
        // Stale (the attempt has its result, was sent again since, or the run ended), or another
        // consumer holds the attempt: its lease covers it, so this copy is acked unrun.
        logLine("info", "stale step message dropped", {
          runId: body.runId,
          nodeId: body.nodeId,
          attempt: body.attempt,
        });
        message.ack();
        return;
      }
      // The context arrives as the run stores it: large values are references into R2, resolved
      // here (through this isolate's cache) before the node sees them. The output goes back as
      // it is; the run offloads its large values as it does for attempts it runs itself.
      const result = await attemptWithValues(env, job);
      try {
        await completions.add(result);
        message.ack();
      } catch (thrown) {
        retry(message, body, "complete failed", thrown);
      }
    }),
  );
}

/** The run hears of every dead-lettered message and re-dispatches the attempt if it is still out. */
async function consumeDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = stepMessage(message.body);
      logLine("error", "step message reached the dead-letter queue", {
        queue: batch.queue,
        id: message.id,
        deliveries: message.attempts,
        ...(body ?? { body: message.body }),
      });
      if (body) {
        try {
          await stepRun(env, body.runId).stepDeadLettered(claimOf(body));
        } catch (thrown) {
          // The run's lease recovers the attempt without this.
          logLine("warn", "could not tell the run of a dead-lettered step", { ...body, error: toErrorData(thrown) });
        }
      }
      message.ack();
    }),
  );
}

function claimOf(body: StepMessage): ClaimInput {
  return { nodeId: body.nodeId, attempt: body.attempt, dispatch: body.dispatch };
}

function retry(message: Message, body: StepMessage, what: string, thrown: unknown): void {
  logLine("warn", `step message: ${what}; retrying`, {
    runId: body.runId,
    nodeId: body.nodeId,
    attempt: body.attempt,
    deliveries: message.attempts,
    error: toErrorData(thrown),
  });
  message.retry();
}

function stepMessage(value: unknown): StepMessage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { runId, nodeId, idempotencyKey, attempt, dispatch } = value as Record<string, unknown>;
  const ok =
    typeof runId === "string" &&
    typeof nodeId === "string" &&
    typeof idempotencyKey === "string" &&
    typeof attempt === "number" &&
    Number.isInteger(attempt) &&
    typeof dispatch === "number" &&
    Number.isInteger(dispatch);
  return ok ? { runId, nodeId, idempotencyKey, attempt, dispatch } : undefined;
}

/**
 * Sends items as they come, in as few calls as possible: the first goes at once, and those
 * that arrive while a call is out go together in the next. A fast result is never held back
 * for a slow sibling, and a fan-out's results still travel in a handful of RPCs.
 */
export class Coalescer<T, R> {
  private pending: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  private sending = false;
  private readonly send: (items: T[]) => Promise<R[]>;

  constructor(send: (items: T[]) => Promise<R[]>) {
    this.send = send;
  }

  add(item: T): Promise<R> {
    const promise = new Promise<R>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    if (!this.sending) void this.flush();
    return promise;
  }

  private async flush(): Promise<void> {
    this.sending = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        const results = await this.send(batch.map((entry) => entry.item));
        for (const [index, entry] of batch.entries()) entry.resolve(results[index] as R);
      } catch (thrown) {
        for (const entry of batch) entry.reject(thrown);
      }
    }
    this.sending = false;
  }
}
