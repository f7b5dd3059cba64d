import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { fail } from "../errors";
import type { Json } from "../lib/json";

export const maxBodyBytes = 1024 * 1024;

export const limitBody = bodyLimit({
  maxSize: maxBodyBytes,
  onError: () => fail("request.too_large", `request body is over ${maxBodyBytes} bytes`),
});

/** Parses a body's text as JSON; `what` names the body in the error. */
export function parseJson(text: string, what = "request body"): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (thrown) {
    fail("request.invalid_json", `${what} is not valid JSON: ${(thrown as Error).message}`);
  }
}

/** Reads a JSON body; an empty body reads as `{}` when `allowEmpty` allows it. */
export async function readJson(c: Context, options: { allowEmpty?: boolean } = {}): Promise<Json> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (options.allowEmpty) return {};
    fail("request.invalid_json", "request body is empty; expected JSON");
  }
  return parseJson(text);
}

/**
 * Reads a URL-encoded or multipart form. The runtime's parser throws on a body that does not
 * match its Content-Type (a multipart body without its boundary): that is the caller's error.
 */
export async function readForm(c: Context): Promise<FormData> {
  try {
    return await c.req.formData();
  } catch (thrown) {
    fail("request.invalid_body", `the form body cannot be read: ${(thrown as Error).message}`);
  }
}

/**
 * A numeric query parameter: plain decimal digits only, so `""`, `0x1`, `1e0`, `+1` and `" 1"`
 * (which `Number()` would all accept) are refused rather than read as some other number.
 */
export function queryInteger(c: Context, name: string, range: { min: 0 | 1; max?: number }): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (Number.isSafeInteger(value) && value >= range.min && value <= max) return value;
  const wanted =
    range.max !== undefined
      ? `an integer from ${range.min} to ${range.max}`
      : range.min === 0
        ? "a non-negative integer"
        : "a positive integer";
  fail("request.invalid", `${name} must be ${wanted}`, { details: { parameter: name, value: raw } });
}

/** Page size of the list routes. */
export function listLimit(c: Context): number {
  return queryInteger(c, "limit", { min: 1, max: 200 }) ?? 50;
}

export function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
