import { fromHex, hmacVerify, utf8 } from "./hmac";
import { failure, type VerifyInput, type VerifyResult } from "./types";

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the webhook
 * secret as text. GitHub signs no timestamp; `X-GitHub-Delivery` identifies the delivery.
 */
export async function verifyGitHub(input: VerifyInput): Promise<VerifyResult> {
  const header = input.headers.get("x-hub-signature-256");
  if (!header) return failure("webhook.signature_missing", "missing X-Hub-Signature-256 header");
  const signature = header.startsWith("sha256=") ? fromHex(header.slice(7)) : undefined;
  if (!signature || !(await hmacVerify(utf8(input.secret), input.body, signature))) {
    return failure("webhook.signature_invalid", "X-Hub-Signature-256 does not match the body");
  }
  return { ok: true, deliveryId: input.headers.get("x-github-delivery") || undefined };
}
