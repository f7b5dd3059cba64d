import type { Env } from "../env";
import { logLine } from "../lib/log";
import { limitStub } from "./limit-stub";
import { httpLimitName, limitSettings, providerLimitName } from "./settings";
import type { LimitConfig, LimitHandle, LimitLookup, LimitPort } from "./types";

const none: LimitLookup = { ok: true, limit: undefined };

/**
 * The limits port the run shell hands to llm and http nodes. Nothing is asked of any object
 * unless a limit is configured for the call: a workflow without limits pays one map lookup.
 * An object that cannot be reached lets the call go (logged): the limit guards the provider,
 * it must not stop every run when it is unavailable itself.
 */
export function limitPortFor(env: Env): LimitPort {
  const settings = limitSettings(env);
  const lookup = (name: string, required: boolean): LimitLookup => {
    if (settings.problem) return { ok: false, code: "limit.config_invalid", message: settings.problem };
    const config = settings.limits.get(name);
    if (config) return { ok: true, limit: handle(env, name, config) };
    if (!required) return none;
    return {
      ok: false,
      code: "limit.unknown",
      message: `no limit named "${name}": define it in the LIMITS var, e.g. {"${name}": {"requestsPerMinute": 60}}`,
    };
  };
  return {
    forProvider: (provider) =>
      settings.limits.size === 0 && !settings.problem ? none : lookup(providerLimitName(provider), false),
    forHttp: (url, named) =>
      settings.limits.size === 0 && !settings.problem && named === undefined
        ? none
        : lookup(httpLimitName(url, named), named !== undefined),
  };
}

function handle(env: Env, name: string, config: LimitConfig): LimitHandle {
  const stub = () => limitStub(env, name);
  return {
    name,
    async take(request) {
      try {
        return await stub().take(name, config, request);
      } catch (thrown) {
        logLine("warn", "limit could not be reached; the call goes", { limit: name, error: String(thrown) });
        return { go: true };
      }
    },
    async report(report) {
      try {
        await stub().report(name, config, report);
      } catch (thrown) {
        logLine("warn", "limit could not take a call's outcome", { limit: name, error: String(thrown) });
      }
    },
  };
}
