import type { D1Migration } from "cloudflare:test";
import type { Env as SignalboxEnv } from "../../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends SignalboxEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
