/** Zod pieces shared by the workflow definition schema and the node configs. */
import { z } from "zod";
import { isDuration } from "./duration";

export const duration = z.string().refine(isDuration, {
  message: "expected a duration such as 500ms, 30s, 5m, 2h or 7d",
});

export const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "expected letters, digits, '-' or '_', starting with a letter (max 64)");

/** A JSON Schema document: checked for shape here, compiled when the definition is registered. */
export const jsonSchema = z.record(z.string(), z.unknown());
