import { concat, fromHex, hmacVerify, utf8 } from "./hmac";
import { checkTimestamp, failure, jsonField, parseSeconds, type VerifyInput, type VerifyResult } from "./types";

/**
 * Slack: `X-Slack-Signature: v0=<hex>`, an HMAC-SHA256 of `v0:<timestamp>:<body>` keyed with
 * the app's signing secret, and `X-Slack-Request-Timestamp` (Unix seconds). Events API bodies
 * carry an `event_id`, used as the delivery id when present.
 */
export async function verifySlack(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("x-slack-signature");
  const timestampText = input.headers.get("x-slack-request-timestamp");
  if (!header || !timestampText) {
    return failure("webhook.signature_missing", "missing X-Slack-Signature or X-Slack-Request-Timestamp header");
  }
  const timestamp = parseSeconds(timestampText);
  const signature = header.startsWith("v0=") ? fromHex(header.slice(3)) : undefined;
  if (
    timestamp === undefined ||
    !signature ||
    !(await hmacVerify(utf8(input.secret), concat(`v0:${timestamp}:`, input.body), signature))
  ) {
    return failure("webhook.signature_invalid", "X-Slack-Signature does not match the body");
  }
  return checkTimestamp(timestamp, input) ?? { ok: true, deliveryId: jsonField(input.body, "event_id") };
}
