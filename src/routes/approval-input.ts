import type { ReviewDecision } from "../engine/outcome";
import type { Json, JsonObject } from "../lib/json";
import { validateJson } from "../lib/json-schema";
import type { ReviewInfo } from "../run/reviews";
import type { ApprovalFormValues } from "../ui/approval-page";

export interface DecisionInput {
  decision: ReviewDecision;
  comment?: string;
  edits?: JsonObject;
  output?: JsonObject;
}

export type ParsedDecision =
  | { input: DecisionInput; values: ApprovalFormValues }
  | { error: string; values: ApprovalFormValues };

const maxComment = 2_000;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Form fields are strings: each edit is read back as its schema's type. */
function editsFromForm(info: ReviewInfo, raw: Record<string, unknown>): JsonObject | string {
  const properties = (info.request.edit?.schema.properties ?? {}) as Record<string, { type?: string }>;
  const edits: JsonObject = {};
  for (const [name, schema] of Object.entries(properties)) {
    const value = raw[`edit.${name}`];
    if (schema.type === "boolean") {
      edits[name] = value === "true" || value === "on";
      continue;
    }
    if (typeof value !== "string" || value === "") continue;
    if (schema.type === "number" || schema.type === "integer") {
      const number = Number(value);
      if (!Number.isFinite(number)) return `${name} must be a number`;
      edits[name] = number;
    } else if (schema.type === "string" || schema.type === undefined) {
      edits[name] = value;
    } else {
      try {
        edits[name] = JSON.parse(value) as Json;
      } catch {
        return `${name} must be JSON`;
      }
    }
  }
  return edits;
}

/**
 * Reads a decision from the page's form or a JSON body and checks it against the request:
 * a decision it offers, a comment of sensible length, edits that fit the edit schema, and for
 * a skip an output made of the keys the node writes.
 */
export function parseDecision(info: ReviewInfo, raw: Record<string, unknown>, fromForm: boolean): ParsedDecision {
  const values: ApprovalFormValues = {};
  const comment = typeof raw.comment === "string" ? raw.comment.trim() : undefined;
  if (comment) values.comment = comment;
  if (typeof raw.output === "string") values.output = raw.output;
  const fail = (error: string): ParsedDecision => ({ error, values });

  const decision = raw.decision;
  const offered = info.request.decisions;
  if (typeof decision !== "string" || !(offered as string[]).includes(decision)) {
    return fail(`choose one of: ${offered.join(", ")}`);
  }
  if (raw.comment !== undefined && typeof raw.comment !== "string") return fail("comment must be a string");
  if (comment && comment.length > maxComment) return fail(`the comment is over ${maxComment} characters`);
  const input: DecisionInput = { decision: decision as ReviewDecision };
  if (comment) input.comment = comment;

  const schema = info.request.edit?.schema;
  const edits = fromForm ? (schema ? editsFromForm(info, raw) : undefined) : raw.edits;
  if (typeof edits === "string") return fail(edits);
  if (edits !== undefined && edits !== null) {
    if (!schema) return fail("this request offers no edits");
    if (!isObject(edits)) return fail("edits must be a JSON object");
    values.edits = edits;
    if (decision === "approve") {
      const errors = validateJson(schema, edits);
      if (errors.length > 0)
        return fail(`edits: ${errors.map((entry) => `${entry.path} ${entry.message}`).join("; ")}`);
      if (Object.keys(edits).length > 0) input.edits = edits;
    }
  }

  if (decision === "skip") {
    let output: unknown = raw.output ?? {};
    if (typeof output === "string") {
      try {
        output = output.trim() === "" ? {} : JSON.parse(output);
      } catch {
        return fail("the output must be a JSON object");
      }
    }
    if (!isObject(output)) return fail("the output must be a JSON object");
    const stray = Object.keys(output).filter((key) => !info.writes.includes(key));
    if (stray.length > 0) {
      const allowed = info.writes.length > 0 ? info.writes.join(", ") : "none";
      return fail(`the output may only set this step's keys (${allowed}); not: ${stray.join(", ")}`);
    }
    input.output = output;
  }
  return { input, values };
}
