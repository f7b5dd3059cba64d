import type { ErrorData } from "../../errors";

/** One email, as every adapter takes it. */
export interface OutgoingEmail {
  /** Stable across retries: adapters that can pass an idempotency key use it. */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export type EmailResult = { ok: true } | { ok: false; error: ErrorData };

/** The email port the run shell sends through; adapters are the real implementations. */
export interface EmailPort {
  readonly name: "outbox" | "binding" | "http";
  send(message: OutgoingEmail): Promise<EmailResult>;
}
