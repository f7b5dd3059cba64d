import PostalMime, { type Email } from "postal-mime";
import type { TriggerDefinition } from "../definition/schema";
import type { Env } from "../env";
import { toErrorData } from "../errors";
import { type BlobRef, blobMarker } from "../lib/blob-ref";
import { sortableId } from "../lib/ids";
import type { JsonObject } from "../lib/json";
import { logLine } from "../lib/log";
import { formatBytes, parseByteSize } from "../lib/size";
import { deleteRunBlobs, putFileBlob } from "../store/blobs";
import { database } from "../store/db";
import { emailSubscriber, recordRejection } from "../store/email";
import { latestWorkflowForTrigger, type WorkflowForRun } from "../store/triggers";
import { addressMatches, normalizeAddress, senderAllowed } from "./email-address";
import { startRun } from "./start-run";

export type EmailTrigger = Extract<TriggerDefinition, { type: "email" }>;

/** The part of Email Routing's message the trigger reads, and the one answer it may give. */
export type InboundEmail = Pick<ForwardableEmailMessage, "from" | "to" | "headers" | "raw" | "rawSize" | "setReject">;

/** Why a message was refused: the code recorded with it, stable across releases. */
export const emailRejectCodes = [
  "email.no_workflow",
  "email.workflow_disabled",
  "email.sender_not_allowed",
  "email.too_large",
  "email.too_many_attachments",
  "email.attachment_too_large",
  "email.unparseable",
  "email.input_invalid",
] as const;
export type EmailRejectCode = (typeof emailRejectCodes)[number];

export type EmailOutcome =
  | { status: "queued" | "duplicate" | "skipped" | "debounced"; workflowId: string; runId: string }
  /** The workflow's rate limit refused it: the message is accepted and starts nothing. */
  | { status: "rate_limited"; workflowId: string }
  | { status: "rejected"; workflowId: string | null; code: EmailRejectCode; reason: string };

/** The defaults; maxBytes is Email Routing's own limit, so a trigger can only usefully lower it. */
export const emailLimits = { maxBytes: 25 * 1_048_576, maxAttachmentBytes: 10 * 1_048_576, maxAttachments: 10 };

function sizeLimit(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === "number" ? value : (parseByteSize(value) ?? fallback);
}

/** The limits a trigger sets, over the defaults. */
export function triggerLimits(trigger: EmailTrigger): typeof emailLimits {
  return {
    maxBytes: sizeLimit(trigger.maxBytes, emailLimits.maxBytes),
    maxAttachmentBytes: sizeLimit(trigger.maxAttachmentBytes, emailLimits.maxAttachmentBytes),
    maxAttachments: trigger.maxAttachments ?? emailLimits.maxAttachments,
  };
}

/** Why a message is refused: what the sending server is told, and the code it is recorded with. */
interface Refusal {
  refused: EmailRejectCode;
  reason: string;
}

function refusal(refused: EmailRejectCode, reason: string): Refusal {
  return { refused, reason };
}

function isRefusal(value: object): value is Refusal {
  return "refused" in value;
}

/**
 * The Worker's `email()` handler: takes a message Email Routing delivers to an address some
 * workflow's email trigger names, stores its attachments as blobs of the run it starts, and
 * starts that run with the message as input. Everything it cannot take is refused with
 * `setReject` and recorded; a run that could not be started (a transient failure) throws, which
 * Email Routing answers with a temporary failure so the sending server tries again.
 */
export async function handleEmail(env: Env, message: InboundEmail, receivedAt = Date.now()): Promise<EmailOutcome> {
  const db = database(env.DB);
  const to = normalizeAddress(message.to);
  const from = normalizeAddress(message.from);
  // Email Routing passes the headers apart: a message refused before it is read is recorded with its id.
  const headerId = message.headers.get("message-id");
  const subscriber = await emailSubscriber(db, to);
  const workflow = subscriber ? await latestWorkflowForTrigger(env, db, subscriber) : undefined;
  const trigger = workflow?.definition.triggers.find(
    (entry): entry is EmailTrigger => entry.type === "email" && addressMatches(entry.address, to),
  );
  const refuse = async (refused: Refusal, messageId: string | null): Promise<EmailOutcome> => {
    const rejection = {
      workflowId: trigger && workflow ? workflow.workflowId : null,
      code: refused.refused,
      reason: refused.reason,
    };
    message.setReject(refused.reason);
    await recordRejection(db, {
      id: sortableId("rej", receivedAt),
      receivedAt,
      from,
      to,
      messageId,
      size: message.rawSize,
      ...rejection,
    }).catch((error: unknown) =>
      logLine("error", "email rejection not recorded", { ...rejection, to, error: toErrorData(error) }),
    );
    logLine("warn", "email rejected", { ...rejection, from, to });
    return { status: "rejected", ...rejection };
  };
  if (!workflow || workflow.deletedAt !== null || !trigger) {
    return refuse(refusal("email.no_workflow", `no workflow takes mail for ${to}`), headerId);
  }
  const checked = checkEnvelope(workflow, trigger, message, from, to);
  if (checked) return refuse(checked, headerId);
  const read = await parse(message);
  if (isRefusal(read)) return refuse(read, headerId);
  const messageId = read.parsed.messageId ?? headerId;
  const tooMany = checkAttachments(read.parsed, triggerLimits(trigger));
  if (tooMany) return refuse(tooMany, messageId);
  const started = await start(env, { workflow, trigger, ...read, from, to, receivedAt });
  return isRefusal(started) ? refuse(started, messageId) : started;
}

/** What can be decided before the message is read: the workflow's state, the sender, the size. */
function checkEnvelope(
  workflow: WorkflowForRun,
  trigger: EmailTrigger,
  message: InboundEmail,
  from: string,
  to: string,
): Refusal | undefined {
  if (workflow.disabledAt !== null) return refusal("email.workflow_disabled", `mail for ${to} is not taken now`);
  if (!senderAllowed(trigger.allowFrom, from))
    return refusal("email.sender_not_allowed", `${from} may not send to ${to}`);
  const { maxBytes } = triggerLimits(trigger);
  if (message.rawSize > maxBytes) {
    return refusal(
      "email.too_large",
      `message of ${formatBytes(message.rawSize)} is over the limit of ${formatBytes(maxBytes)}`,
    );
  }
  return undefined;
}

async function parse(message: InboundEmail): Promise<{ parsed: Email; raw: Uint8Array } | Refusal> {
  const raw = new Uint8Array(await new Response(message.raw).arrayBuffer());
  try {
    return { parsed: await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" }), raw };
  } catch (thrown) {
    return refusal("email.unparseable", `message could not be read: ${toErrorData(thrown).message}`);
  }
}

function checkAttachments(parsed: Email, limits: typeof emailLimits): Refusal | undefined {
  if (parsed.attachments.length > limits.maxAttachments) {
    return refusal(
      "email.too_many_attachments",
      `message has ${parsed.attachments.length} attachments, over the limit of ${limits.maxAttachments}`,
    );
  }
  for (const attachment of parsed.attachments) {
    const size = contentBytes(attachment.content).byteLength;
    if (size > limits.maxAttachmentBytes) {
      return refusal(
        "email.attachment_too_large",
        `attachment ${attachment.filename ?? attachment.mimeType} of ${formatBytes(size)} is over the limit of ${formatBytes(limits.maxAttachmentBytes)}`,
      );
    }
  }
  return undefined;
}

function contentBytes(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** What startRun refuses that only a different message (or workflow) could change, as reject codes. */
const startRejections: Partial<Record<string, EmailRejectCode>> = {
  "run.input_invalid": "email.input_invalid",
  "run.input_mapping_failed": "email.input_invalid",
  "workflow.disabled": "email.workflow_disabled",
  "workflow.not_found": "email.no_workflow",
  "trigger.not_found": "email.no_workflow",
};

interface Accepted {
  workflow: WorkflowForRun;
  trigger: EmailTrigger;
  parsed: Email;
  raw: Uint8Array;
  from: string;
  to: string;
  receivedAt: number;
}

/**
 * Attachments become blobs of the run about to start (deleted with it), so the run id is minted
 * here. A redelivery finds the Message-ID claimed by its first run and leaves no blobs behind.
 */
async function start(env: Env, accepted: Accepted): Promise<EmailOutcome | Refusal> {
  const { workflow, trigger, parsed, raw, from, to, receivedAt } = accepted;
  const runId = sortableId("run", receivedAt);
  const attachments: JsonObject[] = [];
  for (const attachment of parsed.attachments) {
    const bytes = contentBytes(attachment.content);
    const hash = await sha256Hex(bytes);
    await putFileBlob(env.BLOBS, runId, hash, bytes, attachment.mimeType);
    const ref: BlobRef = { [blobMarker]: `sha256:${hash}`, size: bytes.byteLength, type: "bytes" };
    attachments.push({
      filename: attachment.filename,
      contentType: attachment.mimeType,
      size: bytes.byteLength,
      ref: { ...ref },
    });
  }
  const input: JsonObject = {
    from,
    to,
    subject: parsed.subject ?? "",
    text: parsed.text ?? null,
    html: parsed.html ?? null,
    messageId: parsed.messageId ?? null,
    attachments,
  };
  const headers: Record<string, string> = {};
  for (const header of parsed.headers)
    headers[header.key] = header.key in headers ? `${headers[header.key]}, ${header.value}` : header.value;
  const key = parsed.messageId ?? `sha256:${await sha256Hex(raw)}`;
  const cleanUp = () =>
    deleteRunBlobs(env.BLOBS, runId).catch((error: unknown) =>
      logLine("warn", "blobs of a message that started no run were not deleted", { runId, error: toErrorData(error) }),
    );
  try {
    const result = await startRun(env, {
      workflowId: workflow.workflowId,
      triggerType: "email",
      workflow,
      trigger,
      input,
      envelope: { body: input, headers },
      idempotencyKey: key,
      runId,
      details: { from, to, messageId: parsed.messageId ?? null },
      receivedAt,
    });
    if (result.status === "rate_limited") {
      await cleanUp();
      return { status: "rate_limited", workflowId: workflow.workflowId };
    }
    // A debounced message may be the one its window's run starts with: its files stay.
    if (result.runId !== runId && result.status !== "debounced") await cleanUp();
    return { status: result.status, workflowId: workflow.workflowId, runId: result.runId };
  } catch (thrown) {
    await cleanUp();
    const error = toErrorData(thrown);
    const refused = startRejections[error.code];
    // Anything else (run.start_failed, a bug) is not the message's fault: Email Routing defers it.
    if (error.retryable || !refused) throw thrown;
    return refusal(refused, error.message);
  }
}
