import { EmailMessage } from "cloudflare:email";
import { errorData } from "../../errors";
import { buildMime, domainOf } from "./mime";
import type { EmailPort } from "./port";

/** Cloudflare Email Routing's `send_email` binding (under `wrangler dev` it writes files, sends nothing). */
export function bindingEmailPort(binding: SendEmail): EmailPort {
  return {
    name: "binding",
    async send(message) {
      try {
        const raw = buildMime(message, domainOf(message.from));
        await binding.send(new EmailMessage(message.from, message.to, raw));
        return { ok: true };
      } catch (thrown) {
        return {
          ok: false,
          error: errorData("email.delivery_failed", `send_email: ${String(thrown)}`, { retryable: true }),
        };
      }
    },
  };
}
