import type { WebhookVerify } from "../../definition/schema";
import { parseDuration } from "../../lib/duration";
import { verifyGeneric } from "./generic";
import { verifyGitHub } from "./github";
import { verifySlack } from "./slack";
import { verifyStandard } from "./standard";
import { verifyStripe } from "./stripe";
import { defaultToleranceMs, failure, type VerifyInput, type VerifyResult } from "./types";

export type { VerifyResult } from "./types";

/**
 * Checks a webhook request against its trigger's `verify` settings. The secret is a Worker
 * secret looked up by name; the body is the raw bytes as received.
 */
export async function verifyWebhook(
  verify: WebhookVerify,
  request: { headers: Headers; body: Uint8Array<ArrayBuffer>; now: number },
  secrets: Readonly<Record<string, unknown>>,
): Promise<VerifyResult> {
  const secret = secrets[verify.secret];
  if (typeof secret !== "string" || secret === "") {
    return failure(
      "webhook.secret_not_configured",
      `the Worker secret ${verify.secret} is not set: add it with \`wrangler secret put ${verify.secret}\``,
    );
  }
  const tolerance = "tolerance" in verify ? verify.tolerance : undefined;
  const input: VerifyInput = {
    ...request,
    secret,
    toleranceMs: (tolerance && parseDuration(tolerance)) || defaultToleranceMs,
  };
  switch (verify.scheme) {
    case "standard":
      return verifyStandard(input);
    case "github":
      return verifyGitHub(input);
    case "stripe":
      return verifyStripe(input);
    case "slack":
      return verifySlack(input);
    case "hmac":
      return verifyGeneric(input, verify);
  }
}
