import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { fail } from "../errors";
import type { Json } from "../lib/json";

export const maxBodyBytes = 1024 * 1024;

export const limitBody = bodyLimit({
  maxSize: maxBodyBytes,
  onError: () => fail("request.too_large", `request body is over ${maxBodyBytes} bytes`),
});

/** Reads a JSON body; an empty body reads as `{}` when `emptyAs` allows it. */
export async function readJson(c: Context, options: { allowEmpty?: boolean } = {}): Promise<Json> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (options.allowEmpty) return {};
    fail("request.invalid_json", "request body is empty; expected JSON");
  }
  try {
    return JSON.parse(text) as Json;
  } catch (thrown) {
    fail("request.invalid_json", `request body is not valid JSON: ${(thrown as Error).message}`);
  }
}

export function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
