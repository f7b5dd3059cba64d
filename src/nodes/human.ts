import { z } from "zod";
import { approvalDecisions, type ExpireAction, type NodeOutcome } from "../engine/outcome";
import { errorData } from "../errors";
import { evaluate } from "../expr/jsonata";
import { renderTemplate, stringify } from "../expr/template";
import { parseDuration } from "../lib/duration";
import { escapeHtml } from "../lib/html";
import { type JsonObject, toJson } from "../lib/json";
import { checkJsonSchema } from "../lib/json-schema-check";
import { duration, jsonSchema } from "../lib/schema-parts";
import { defineNode, type ExpressionSite, type NodeContext } from "./types";

const emailAddress = z.email();
export const maxApprovers = 20;

/** Email addresses, or one string: an address, else a JSONata expression giving one or a list. */
const approvers = z.union([z.array(emailAddress).min(1).max(maxApprovers), z.string().min(1)]);

const editSchema = jsonSchema.superRefine((schema, ctx) => {
  const problem = checkJsonSchema(schema);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid JSON Schema: ${problem}` });
  const properties = schema.properties;
  if (schema.type !== "object" || typeof properties !== "object" || properties === null) {
    ctx.addIssue({ code: "custom", message: 'the edit schema must be {"type": "object", "properties": {...}}' });
  }
});

const config = z.strictObject({
  to: approvers,
  /** Templates: `{{ expr }}` interpolates. The HTML template escapes what it interpolates. */
  subject: z.string().min(1).max(500),
  body: z.string().min(1).max(20_000),
  html: z.string().min(1).max(50_000).optional(),
  /** Context fields shown in the email and on the approval page: label -> expression. */
  summary: z.record(z.string().min(1).max(100), z.string().min(1)).default({}),
  decisions: z.array(z.enum(approvalDecisions)).min(1).default(["approve", "reject"]),
  /** Fields the approver may edit: a JSON Schema for the edits, and expressions for their current values. */
  edit: z.strictObject({ schema: editSchema, values: z.record(z.string(), z.string().min(1)).default({}) }).optional(),
  expiresIn: duration.default("7d"),
  onExpire: z
    .union([
      z.enum(["reject", "approve", "fail"]),
      z.strictObject({
        escalate: approvers,
        expiresIn: duration.optional(),
        fallback: z.enum(["reject", "approve", "fail"]).default("fail"),
      }),
    ])
    .default("reject"),
  /** Reminders, as durations before the expiry. */
  remind: z.array(duration).max(5).default([]),
  /** `any`: the first decision settles it; `all`: every approver must approve (one reject rejects). */
  require: z.enum(["any", "all"]).default("any"),
  output: z.string().min(1).default("approval"),
});
type HumanConfig = z.infer<typeof config>;

function isAddress(text: string): boolean {
  return emailAddress.safeParse(text).success;
}

function approverSite(value: HumanConfig["to"], path: (string | number)[]): ExpressionSite[] {
  return typeof value === "string" && !isAddress(value) ? [{ path, source: value }] : [];
}

/** The approvers as a list of addresses: literal, or what the expression gives. */
async function resolveApprovers(value: HumanConfig["to"], node: NodeContext): Promise<string[] | NodeOutcome> {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (isAddress(value)) list = [value];
  else {
    const result = await evaluate(value, node.context);
    list = Array.isArray(result) ? result : result === undefined || result === null ? [] : [result];
  }
  const addresses = [...new Set(list.map((entry) => (typeof entry === "string" ? entry.trim() : entry)))];
  const invalid = addresses.filter((entry) => typeof entry !== "string" || !isAddress(entry));
  if (invalid.length > 0 || addresses.length === 0 || addresses.length > maxApprovers) {
    const why =
      invalid.length > 0 ? `not email addresses: ${JSON.stringify(invalid)}` : `${addresses.length} approvers`;
    return {
      type: "failure",
      error: errorData("node.failed", `human: approvers must be 1 to ${maxApprovers} email addresses (${why})`),
    };
  }
  return addresses as string[];
}

function ms(text: string): number {
  return parseDuration(text) ?? 0;
}

export const humanNode = defineNode({
  type: "human",
  kind: "io",
  redactsSensitive: true,
  config,
  // Rendering the request only; the wait for people is timed by `expiresIn` on the run's alarm.
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions(c) {
    const sites: ExpressionSite[] = [
      ...approverSite(c.to, ["to"]),
      { path: ["subject"], source: c.subject, template: true },
      { path: ["body"], source: c.body, template: true },
    ];
    if (c.html) sites.push({ path: ["html"], source: c.html, template: true });
    for (const [label, source] of Object.entries(c.summary)) sites.push({ path: ["summary", label], source });
    for (const [field, source] of Object.entries(c.edit?.values ?? {}))
      sites.push({ path: ["edit", "values", field], source });
    if (typeof c.onExpire === "object") sites.push(...approverSite(c.onExpire.escalate, ["onExpire", "escalate"]));
    return sites;
  },
  writes: (c) => [c.output],
  async execute(c, node) {
    const approvers = await resolveApprovers(c.to, node);
    if (!Array.isArray(approvers)) return approvers;
    let onExpire: ExpireAction;
    if (typeof c.onExpire === "string") {
      onExpire = { type: c.onExpire };
    } else {
      const escalateTo = await resolveApprovers(c.onExpire.escalate, node);
      if (!Array.isArray(escalateTo)) return escalateTo;
      const expiresInMs = ms(c.onExpire.expiresIn ?? c.expiresIn);
      onExpire = { type: "escalate", approvers: escalateTo, expiresInMs, fallback: c.onExpire.fallback };
    }
    const summary: { label: string; value: string }[] = [];
    for (const [label, source] of Object.entries(c.summary)) {
      summary.push({ label, value: stringify(await evaluate(source, node.context)) });
    }
    const values: JsonObject = {};
    for (const [field, source] of Object.entries(c.edit?.values ?? {})) {
      values[field] = toJson(await evaluate(source, node.context));
    }
    // A subject is one header line: line breaks from the context must not add headers.
    const subject = (await renderTemplate(c.subject, node.context)).replace(/[\r\n]+/g, " ").slice(0, 500);
    const text = await renderTemplate(c.body, node.context);
    const html = c.html ? await renderTemplate(c.html, node.context, escapeHtml) : undefined;
    return {
      type: "await-review",
      review: {
        approvers,
        require: c.require,
        expiresAt: node.now + ms(c.expiresIn),
        remindBeforeMs: c.remind.map(ms),
        onExpire,
        output: c.output,
        request: {
          subject,
          text,
          ...(html ? { html } : {}),
          summary,
          decisions: c.decisions,
          ...(c.edit ? { edit: { schema: c.edit.schema as JsonObject, values } } : {}),
        },
      },
    };
  },
});
