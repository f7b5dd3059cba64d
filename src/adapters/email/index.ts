/**
 * Adapters: the real outside world behind the ports the run shell hands out. Email leaves
 * through the outbox, a send_email binding or an HTTP API; model calls go through ../llm.
 */
import type { Env } from "../../env";
import { errorData } from "../../errors";
import { bindingEmailPort } from "./binding";
import { httpEmailPort } from "./http";
import type { EmailPort } from "./port";

export type { EmailPort, EmailResult, OutgoingEmail } from "./port";

/** The D1 outbox is the delivery: every message is recorded there anyway (local dev, tests). */
export const outboxEmailPort: EmailPort = { name: "outbox", send: async () => ({ ok: true }) };

/** A port whose every send fails: a misconfigured adapter must show up as failed deliveries. */
function misconfigured(name: EmailPort["name"], why: string): EmailPort {
  return {
    name,
    send: async () => ({ ok: false, error: errorData("email.delivery_failed", why, { retryable: false }) }),
  };
}

/** Chooses the adapter from the environment: EMAIL_ADAPTER = outbox (default) | binding | http. */
export function emailPortFor(env: Env): EmailPort {
  switch (env.EMAIL_ADAPTER ?? "outbox") {
    case "outbox":
      return outboxEmailPort;
    case "binding":
      return env.EMAIL
        ? bindingEmailPort(env.EMAIL)
        : misconfigured("binding", "EMAIL_ADAPTER=binding but no send_email binding named EMAIL");
    case "http":
      return env.EMAIL_HTTP_URL
        ? httpEmailPort({ url: env.EMAIL_HTTP_URL, key: env.EMAIL_HTTP_KEY })
        : misconfigured("http", "EMAIL_ADAPTER=http but EMAIL_HTTP_URL is not set");
    default:
      return misconfigured("outbox", `unknown EMAIL_ADAPTER ${JSON.stringify(env.EMAIL_ADAPTER)}`);
  }
}

export const defaultEmailFrom = "signalbox@localhost.localdomain";
