import { errorData } from "../../errors";
import type { EmailPort } from "./port";

/**
 * A transactional email API reached over HTTP: POSTs `{from, to, subject, text, html}` as JSON
 * with `Authorization: Bearer <key>` and the message id as `Idempotency-Key`. Any 2xx is sent;
 * 408, 429, 5xx and network errors are retried by the caller.
 */
export function httpEmailPort(options: {
  url: string;
  key?: string | undefined;
  fetch?: (request: Request) => Promise<Response>;
}): EmailPort {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  return {
    name: "http",
    async send(message) {
      const headers = new Headers({ "content-type": "application/json", "idempotency-key": message.id });
      if (options.key) headers.set("authorization", `Bearer ${options.key}`);
      const body = JSON.stringify({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      let response: Response;
      try {
        response = await send(
          new Request(options.url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) }),
        );
      } catch (thrown) {
        return {
          ok: false,
          error: errorData("email.delivery_failed", `email API unreachable: ${String(thrown)}`, { retryable: true }),
        };
      }
      const detail = (await response.text()).slice(0, 500);
      if (response.ok) return { ok: true };
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      return {
        ok: false,
        error: errorData("email.delivery_failed", `email API answered ${response.status}: ${detail}`, {
          retryable,
          details: { status: response.status },
        }),
      };
    },
  };
}
