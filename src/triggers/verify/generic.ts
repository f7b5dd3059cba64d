import { concat, fromBase64, fromHex, hmacVerify, utf8 } from "./hmac";
import { checkTimestamp, failure, parseSeconds, type VerifyInput, type VerifyResult } from "./types";

export interface GenericOptions {
  /** The header carrying the signature; default `x-signature`. */
  header?: string | undefined;
  encoding?: "hex" | "base64" | undefined;
  /** Text before the digest in the header, such as `sha256=`. */
  prefix?: string | undefined;
  /** When set, this header carries Unix seconds and the signed content is `<timestamp>.<body>`. */
  timestampHeader?: string | undefined;
  /** A header whose value identifies the delivery (the dedup key). */
  idHeader?: string | undefined;
}

/** A generic HMAC-SHA256 header: the digest of the body (or `<timestamp>.<body>`), hex or base64. */
export async function verifyGeneric(input: VerifyInput, options: GenericOptions): Promise<VerifyResult> {
  const headerName = options.header ?? "x-signature";
  const header = input.headers.get(headerName);
  if (!header) return failure("webhook.signature_missing", `missing ${headerName} header`);
  let signed = input.body;
  let timestamp: number | undefined;
  if (options.timestampHeader) {
    const text = input.headers.get(options.timestampHeader);
    if (!text) return failure("webhook.signature_missing", `missing ${options.timestampHeader} header`);
    timestamp = parseSeconds(text);
    if (timestamp === undefined) {
      return failure("webhook.signature_invalid", `${options.timestampHeader} is not Unix seconds`);
    }
    signed = concat(`${timestamp}.`, input.body);
  }
  const prefix = options.prefix ?? "";
  const encoded = header.startsWith(prefix) ? header.slice(prefix.length).trim() : undefined;
  const signature =
    encoded === undefined ? undefined : options.encoding === "base64" ? fromBase64(encoded) : fromHex(encoded);
  if (!signature || !(await hmacVerify(utf8(input.secret), signed, signature))) {
    return failure("webhook.signature_invalid", `${headerName} does not match the body`);
  }
  if (timestamp !== undefined) {
    const stale = checkTimestamp(timestamp, input);
    if (stale) return stale;
  }
  return { ok: true, deliveryId: (options.idHeader && input.headers.get(options.idHeader)) || undefined };
}
