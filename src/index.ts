/**
 * The Worker: its fetch, queue, email and scheduled handlers, and the Durable Object classes
 * (RunObject per run, ScheduleObject per scheduled workflow) the runtime needs exported.
 */
import type { Env } from "./env";
import { createApp } from "./routes/app";
import { consumeStepBatch, consumesStepQueue } from "./run/step-consumer";
import { handleEmail } from "./triggers/email";
import { consumesQueue, consumeTriggerBatch } from "./triggers/queue";
import { watchdog } from "./triggers/watchdog";

export { GateObject } from "./flow/gate-object";
export { LimitObject } from "./limits/limit-object";
export { RunObject } from "./run/run-object";
export { ScheduleObject } from "./triggers/schedule-object";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(watchdog(env, controller.scheduledTime));
  },
  // Email Routing delivers here the mail for addresses workflows' email triggers name.
  async email(message, env) {
    await handleEmail(env, message);
  },
  // Dispatches by queue name: the trigger queues (events, R2 notifications) and the steps queue
  // (parallel io attempts) and its dead letters are consumed here.
  async queue(batch, env) {
    if (consumesQueue(batch.queue)) return consumeTriggerBatch(batch, env);
    if (consumesStepQueue(batch.queue)) return consumeStepBatch(batch, env);
    console.log(JSON.stringify({ level: "error", message: "no consumer for queue", queue: batch.queue }));
    batch.retryAll();
  },
} satisfies ExportedHandler<Env>;
