import type { ErrorData } from "../../errors";

/**
 * Keys must not leak through a provider's answer: an error body that quotes the request, a
 * proxy that echoes headers. Whatever the port hands back is scrubbed of the keys it used.
 */
const mask = "[redacted]";

export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  // A very short "secret" would blank out ordinary words; real keys are long.
  for (const secret of secrets) if (secret.length >= 6) result = result.split(secret).join(mask);
  return result;
}

export function redactError(error: ErrorData, secrets: readonly string[]): ErrorData {
  if (secrets.length === 0) return error;
  const redacted: ErrorData = { ...error, message: redactText(error.message, secrets) };
  if (error.details !== undefined) {
    redacted.details = JSON.parse(redactText(JSON.stringify(error.details), secrets)) as unknown;
  }
  return redacted;
}
