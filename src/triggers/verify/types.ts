import type { ErrorCode } from "../../errors";

/** What every scheme is given: the request as received and the trigger's secret. */
export interface VerifyInput {
  headers: Headers;
  /** The raw body bytes: what the sender signed, before any parsing. */
  body: Uint8Array<ArrayBuffer>;
  secret: string;
  /** Epoch ms; an injected clock in tests. */
  now: number;
  toleranceMs: number;
}

export type VerifyFailureCode = Extract<
  ErrorCode,
  | "webhook.signature_missing"
  | "webhook.signature_invalid"
  | "webhook.timestamp_stale"
  | "webhook.secret_not_configured"
>;

export type VerifyResult =
  | { ok: true /** The provider's delivery id, the dedup key when present. */; deliveryId?: string | undefined }
  | { ok: false; code: VerifyFailureCode; message: string };

export const defaultToleranceMs = 5 * 60_000;

export function failure(code: VerifyFailureCode, message: string): VerifyResult {
  return { ok: false, code, message };
}

/**
 * A signed timestamp (Unix seconds) within `toleranceMs` of now, either way. Checked after the
 * signature, so only an authentic request learns that it arrived too late.
 */
export function checkTimestamp(seconds: number, input: VerifyInput): VerifyResult | undefined {
  if (Math.abs(input.now - seconds * 1000) <= input.toleranceMs) return undefined;
  return failure(
    "webhook.timestamp_stale",
    `the signed timestamp is more than ${Math.round(input.toleranceMs / 1000)} s from now`,
  );
}

/** Unix seconds from a header; undefined unless it is a plain integer. */
export function parseSeconds(text: string): number | undefined {
  return /^\d{1,12}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** A string field of a JSON body (Stripe's event id, Slack's event_id), if the body is JSON. */
export function jsonField(body: Uint8Array, field: string): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as unknown;
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const value = (parsed as Record<string, unknown>)[field];
    return typeof value === "string" && value.length > 0 && value.length <= 200 ? value : undefined;
  } catch {
    return undefined;
  }
}
