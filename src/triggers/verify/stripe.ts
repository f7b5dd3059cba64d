import { concat, fromHex, hmacVerify, utf8 } from "./hmac";
import { checkTimestamp, failure, jsonField, parseSeconds, type VerifyInput, type VerifyResult } from "./types";

/**
 * Stripe: `Stripe-Signature: t=<Unix seconds>,v1=<hex>[,v1=<hex>][,v0=...]`, each `v1` an
 * HMAC-SHA256 of `<t>.<body>` keyed with the endpoint secret (`whsec_...`) as text. Any one
 * `v1` may match (Stripe lists two while a secret rolls). The event's `id` in the body is
 * the delivery id.
 */
export async function verifyStripe(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("stripe-signature");
  if (!header) return failure("webhook.signature_missing", "missing Stripe-Signature header");
  let timestampText: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === "t" && value !== undefined) timestampText = value;
    if (name === "v1" && value) signatures.push(value);
  }
  const timestamp = timestampText === undefined ? undefined : parseSeconds(timestampText);
  if (timestamp === undefined || signatures.length === 0) {
    return failure("webhook.signature_invalid", "Stripe-Signature needs t= and at least one v1=");
  }
  const key = utf8(input.secret);
  const signed = concat(`${timestamp}.`, input.body);
  let matched = false;
  for (const encoded of signatures) {
    const signature = fromHex(encoded);
    if (signature && (await hmacVerify(key, signed, signature))) {
      matched = true;
      break;
    }
  }
  if (!matched) return failure("webhook.signature_invalid", "no v1 signature in Stripe-Signature matches the body");
  return checkTimestamp(timestamp, input) ?? { ok: true, deliveryId: jsonField(input.body, "id") };
}
