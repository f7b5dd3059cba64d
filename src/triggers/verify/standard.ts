import { concat, fromBase64, hmacVerify } from "./hmac";
import { checkTimestamp, failure, parseSeconds, type VerifyInput, type VerifyResult } from "./types";

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix seconds)
 * and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
 * `<id>.<timestamp>.<body>`. The secret is `whsec_` then the base64 key. Any one matching
 * `v1` signature passes (senders list several while rotating keys); other versions, such as
 * the asymmetric `v1a`, are not checked here.
 */
export async function verifyStandard(input: VerifyInput): Promise<VerifyResult> {
  const id = input.headers.get("webhook-id");
  const timestampText = input.headers.get("webhook-timestamp");
  const header = input.headers.get("webhook-signature");
  if (!id || !timestampText || !header) {
    return failure("webhook.signature_missing", "missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  const key = fromBase64(input.secret.startsWith("whsec_") ? input.secret.slice(6) : input.secret);
  if (!key) return failure("webhook.secret_not_configured", "the secret is not a whsec_ base64 key");
  const timestamp = parseSeconds(timestampText);
  if (timestamp === undefined) return failure("webhook.signature_invalid", "webhook-timestamp is not Unix seconds");
  const signed = concat(`${id}.${timestamp}.`, input.body);
  let matched = false;
  for (const entry of header.split(" ")) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || !encoded) continue;
    const signature = fromBase64(encoded);
    if (signature && (await hmacVerify(key, signed, signature))) {
      matched = true;
      break;
    }
  }
  if (!matched) return failure("webhook.signature_invalid", "no webhook-signature entry matches the body");
  return checkTimestamp(timestamp, input) ?? { ok: true, deliveryId: id };
}
