import type { Env } from "./env";
import { createApp } from "./routes/app";
import { watchdog } from "./triggers/watchdog";

export { RunObject } from "./run/run-object";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(watchdog(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
